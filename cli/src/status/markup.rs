//! What the page and its picture share: text made safe for HTML and SVG, and each health's
//! colour (the same in the counts, the lines and the table's badges).

use super::fleet::Health;

/// `text` safe inside an element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The colour of `health`: red, orange, purple and amber for what needs a look, grey and
/// green for the rest. Told apart by more than hue: the badges carry the word too.
pub fn colour(health: Health) -> &'static str {
    match health {
        Health::Broken => "#d62728",
        Health::Blocked => "#f07f09",
        Health::Leftover => "#9467bd",
        Health::Held => "#c9a000",
        Health::Unmanaged => "#8c8c8c",
        Health::Healthy => "#2ca02c",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }
}
