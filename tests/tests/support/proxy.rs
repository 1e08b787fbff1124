//! A fault-injecting HTTP proxy between peerwire's SDK clients and the emulator.
//!
//! The SDK talks plain HTTP/1.1 to the emulator, so the proxy sees every request on the wire,
//! retry attempts and STS calls made by credential providers included. It numbers them from 0
//! after each [`FaultProxy::arm`] and either forwards a request to the emulator or answers it
//! with the fault planned for its index: the error body each service really sends (EC2's
//! `<Response><Errors>` XML, STS's `<ErrorResponse>`, EventBridge's JSON `__type`), a stall that
//! the client's attempt timeout ends, or a forward whose response is then withheld (the write
//! happened, the client never learns it).
//!
//! Plain threads and blocking sockets: the proxy does not depend on the test's runtime.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// EC2 `RequestLimitExceeded` (HTTP 503), STS `Throttling`, EventBridge
    /// `ThrottlingException`.
    Throttle,
    /// HTTP 500 `InternalError` / `InternalFailure` / `InternalException`.
    ServerError,
    /// No answer at all: the client's attempt timeout fires.
    Timeout,
    /// EC2 `UnauthorizedOperation` (403), STS `AccessDenied`, EventBridge
    /// `AccessDeniedException`.
    AccessDenied,
    /// The request reaches the emulator and takes effect, but its response never comes back.
    LostResponse,
}

impl Fault {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Throttle => "throttle",
            Self::ServerError => "http-500",
            Self::Timeout => "timeout",
            Self::AccessDenied => "access-denied",
            Self::LostResponse => "lost-response",
        }
    }

    /// Whether the SDK and Lambda are expected to retry it.
    pub fn is_transient(self) -> bool {
        !matches!(self, Self::AccessDenied)
    }
}

/// A fault at one call index. `sticky`: the retries of that call (the same operation with the
/// same body, arriving next) get the same fault, so the SDK's retries are exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub at: usize,
    pub fault: Fault,
    pub sticky: bool,
}

/// How many consecutive attempts a sticky fault hits at most (the SDK makes 3).
const STICKY_ATTEMPTS: usize = 5;

/// One call as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub index: usize,
    pub service: String,
    pub operation: String,
    /// The fault it got, if any.
    pub fault: Option<Fault>,
}

#[derive(Debug, Default)]
struct State {
    plan: Option<Plan>,
    calls: Vec<Call>,
    /// (service, operation, body) of a sticky fault, and how many more attempts it hits.
    sticky: Option<(String, String, Vec<u8>, usize)>,
}

/// The proxy. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (state2, stop2) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (state, upstream) = (state2.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &state);
                });
            }
        });
        Self { addr, state, stop }
    }

    /// `http://127.0.0.1:<port>`, for the SDK's endpoint URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts counting calls from 0 again, with `plan` (or none: forward everything).
    pub fn arm(&self, plan: Option<Plan>) {
        let mut state = self.state.lock().expect("proxy state");
        *state = State {
            plan,
            ..State::default()
        };
    }

    /// Every call since the last [`Self::arm`], in order.
    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().expect("proxy state").calls.clone()
    }

    /// The calls that got a fault.
    pub fn faulted(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.fault.is_some())
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One HTTP/1.1 message, its body de-chunked.
#[derive(Debug, Clone)]
struct Message {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Writes it with a `Content-Length` framing and the given `Connection` header.
    fn write_to(&self, out: &mut impl Write, connection: &str) -> std::io::Result<()> {
        let mut head = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            let hop = [
                "connection",
                "keep-alive",
                "transfer-encoding",
                "content-length",
            ];
            if !hop.iter().any(|h| name.eq_ignore_ascii_case(h)) {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: {connection}\r\n\r\n",
            self.body.len()
        ));
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads one message; `None` at a clean end of stream. A response without framing runs to
/// the end of the stream.
fn read_message(reader: &mut impl BufRead, response: bool) -> std::io::Result<Option<Message>> {
    let mut start = String::new();
    if reader.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let start = start.trim_end().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("end of stream in headers"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| invalid("header"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut message = Message {
        start,
        headers,
        body: Vec::new(),
    };
    let chunked = message
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = size.trim().split(';').next().unwrap_or("0");
            let size = usize::from_str_radix(size, 16).map_err(|_| invalid("chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            message.body.extend_from_slice(&chunk);
            let mut crlf = String::new();
            reader.read_line(&mut crlf)?;
        }
    } else if let Some(length) = message.header("content-length") {
        let length: usize = length.parse().map_err(|_| invalid("content-length"))?;
        message.body = vec![0; length];
        reader.read_exact(&mut message.body)?;
    } else if response {
        reader.read_to_end(&mut message.body)?;
    }
    Ok(Some(message))
}

/// (service, operation) of a signed request, as the product's call log names them.
fn identify(request: &Message) -> (String, String) {
    let service = request
        .header("authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unknown")
        .to_owned();
    let operation = request
        .header("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_owned)
        .or_else(|| {
            std::str::from_utf8(&request.body)
                .ok()?
                .split('&')
                .find_map(|pair| pair.strip_prefix("Action="))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    (service, operation)
}

/// Numbers the call and picks its fault.
fn decide(state: &Mutex<State>, request: &Message) -> Option<Fault> {
    let (service, operation) = identify(request);
    let mut state = state.lock().expect("proxy state");
    let index = state.calls.len();
    let mut fault = None;
    if let Some((s, o, b, left)) = state.sticky.as_mut() {
        if *s == service && *o == operation && *b == request.body && *left > 0 {
            *left -= 1;
            fault = state.plan.map(|p| p.fault);
        } else {
            state.sticky = None;
        }
    }
    if fault.is_none() {
        if let Some(plan) = state.plan.filter(|p| p.at == index) {
            fault = Some(plan.fault);
            if plan.sticky {
                state.sticky = Some((
                    service.clone(),
                    operation.clone(),
                    request.body.clone(),
                    STICKY_ATTEMPTS - 1,
                ));
            }
        }
    }
    state.calls.push(Call {
        index,
        service,
        operation,
        fault,
    });
    fault
}

/// Serves one client connection (the SDK keeps it alive across requests).
fn serve(client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    while let Some(request) = read_message(&mut reader, false)? {
        let fault = decide(state, &request);
        match fault {
            None => forward(upstream, &request)?.write_to(&mut writer, "keep-alive")?,
            Some(Fault::Timeout) => return stall(&mut reader),
            Some(Fault::LostResponse) => {
                forward(upstream, &request)?;
                return stall(&mut reader);
            }
            Some(fault) => {
                let (service, _) = identify(&request);
                error_response(&service, fault).write_to(&mut writer, "keep-alive")?;
            }
        }
    }
    Ok(())
}

/// Holds the connection without answering until the client gives up (or 60 s pass).
fn stall(reader: &mut BufReader<TcpStream>) -> std::io::Result<()> {
    reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut sink = [0u8; 1024];
    while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}

/// Sends `request` to the emulator on a fresh connection and reads the whole response.
fn forward(upstream: &str, request: &Message) -> std::io::Result<Message> {
    let mut stream = TcpStream::connect(upstream)?;
    request.write_to(&mut stream, "close")?;
    let mut reader = BufReader::new(stream);
    let mut response =
        read_message(&mut reader, true)?.ok_or_else(|| invalid("no response from upstream"))?;
    // Answer the client in HTTP/1.1 whatever the upstream spoke, so it keeps the connection.
    if let Some(rest) = response.start.strip_prefix("HTTP/1.0") {
        response.start = format!("HTTP/1.1{rest}");
    }
    Ok(response)
}

/// The error each service really answers with, per fault.
fn error_response(service: &str, fault: Fault) -> Message {
    let message = format!("injected by the peerwire fault proxy: {}", fault.name());
    let (status, reason, code, content_type, body) = match service {
        "ec2" => {
            let (status, reason, code) = match fault {
                Fault::Throttle => (503, "Service Unavailable", "RequestLimitExceeded"),
                Fault::AccessDenied => (403, "Forbidden", "UnauthorizedOperation"),
                _ => (500, "Internal Server Error", "InternalError"),
            };
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}\
                 </Code><Message>{message}</Message></Error></Errors><RequestID>fault-proxy\
                 </RequestID></Response>"
            );
            (status, reason, code, "text/xml;charset=UTF-8", body)
        }
        "events" => {
            let (status, reason, code) = match fault {
                Fault::Throttle => (400, "Bad Request", "ThrottlingException"),
                Fault::AccessDenied => (400, "Bad Request", "AccessDeniedException"),
                _ => (500, "Internal Server Error", "InternalException"),
            };
            let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
            (status, reason, code, "application/x-amz-json-1.1", body)
        }
        // STS, RDS and SSM's query siblings: the awsQuery error document.
        _ => {
            let (status, reason, code) = match fault {
                Fault::Throttle => (400, "Bad Request", "Throttling"),
                Fault::AccessDenied => (403, "Forbidden", "AccessDenied"),
                _ => (500, "Internal Server Error", "InternalFailure"),
            };
            let body = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}\
                 </Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
            );
            (status, reason, code, "text/xml", body)
        }
    };
    Message {
        start: format!("HTTP/1.1 {status} {reason}"),
        headers: vec![
            ("Content-Type".into(), content_type.into()),
            ("x-amzn-RequestId".into(), "fault-proxy".into()),
            ("x-amzn-ErrorType".into(), code.into()),
        ],
        body: body.into_bytes(),
    }
}
