//! A real browser for the tests: headless Chromium (Debian's `chromium` package; `scripts/test`
//! installs it) opens a page from disk, driven over the DevTools protocol by
//! `tests/browser/render.py` (standard library only), which reports every console message,
//! every uncaught exception and the value of each expression asked, and saves a screenshot.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// What the browser saw of a page.
#[derive(Debug)]
pub struct Rendered {
    /// `(level, text)` of every console message and browser log entry.
    pub console: Vec<(String, String)>,
    /// Uncaught script errors.
    pub exceptions: Vec<String>,
    /// Each expression's value, in the order asked.
    pub values: Vec<Value>,
}

impl Rendered {
    /// Script errors and console messages at level `error` (a failed load is one too).
    pub fn errors(&self) -> Vec<String> {
        let logged = self
            .console
            .iter()
            .filter(|(level, _)| level == "error" || level == "assert")
            .map(|(level, text)| format!("{level}: {text}"));
        self.exceptions.iter().cloned().chain(logged).collect()
    }
}

/// Where a test keeps what CI collects: `<target dir>/status-pages/`, next to the test binary's
/// own build directory (so it follows `CARGO_TARGET_DIR`).
pub fn artifacts() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // <target>/debug/deps/integration-<hash>
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| peerwire_emulator::workspace_root().join("target"));
    let dir = target.join("status-pages");
    std::fs::create_dir_all(&dir).expect("the artifacts directory");
    dir
}

/// Opens `page` in headless Chromium at `width`×`height`, evaluates `expressions` once it has
/// loaded, and saves a screenshot of the viewport (the whole page with `full_page`) to `shot`.
pub async fn render(
    page: &Path,
    shot: &Path,
    size: (u32, u32),
    full_page: bool,
    expressions: &[&str],
) -> Rendered {
    let script = peerwire_emulator::workspace_root().join("tests/browser/render.py");
    let mut command = tokio::process::Command::new(peerwire_emulator::python());
    command
        .arg(&script)
        .arg(page)
        .arg(shot)
        .args(["--width", &size.0.to_string()])
        .args(["--height", &size.1.to_string()]);
    if full_page {
        command.arg("--full-page");
    }
    for expression in expressions {
        command.args(["--eval", expression]);
    }
    let output = command.output().await.expect("python runs");
    assert!(
        output.status.success(),
        "headless Chromium did not render {} (is `chromium` installed? scripts/test installs it: \
         apt-get install -y chromium): {}",
        page.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("render.py prints JSON");
    let strings = |key: &str| -> Vec<Value> { report[key].as_array().cloned().unwrap_or_default() };
    Rendered {
        console: strings("console")
            .iter()
            .map(|m| {
                (
                    m["level"].as_str().unwrap_or("").to_owned(),
                    m["text"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect(),
        exceptions: strings("exceptions")
            .iter()
            .map(|e| e.as_str().unwrap_or("").to_owned())
            .collect(),
        values: strings("values"),
    }
}
