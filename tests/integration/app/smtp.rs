//! The SMTP server inside the test process that receives the outcome emails, and `Email`, an
//! outcome email decoded for checks.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

// ---------------------------------------------------------------- SMTP

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

/// A real SMTP server (mailin-embedded) on 127.0.0.1, port chosen by the OS, keeping every message
/// it receives. It has no shutdown: its thread ends with the test process.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    refusing: Arc<AtomicBool>,
}

#[derive(Clone)]
struct SinkHandler {
    inbox: Arc<Mutex<Vec<Received>>>,
    refusing: Arc<AtomicBool>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for SinkHandler {
    fn rcpt(&mut self, _to: &str) -> mailin_embedded::Response {
        if self.refusing.load(Ordering::SeqCst) {
            // 451: a transient failure the sender should retry.
            return mailin_embedded::response::INTERNAL_ERROR;
        }
        mailin_embedded::response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> mailin_embedded::Response {
        self.to = to.iter().map(|t| t.trim_matches(|c| c == '<' || c == '>').to_lowercase()).collect();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let message = Received { to: std::mem::take(&mut self.to), raw: std::mem::take(&mut self.data) };
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).push(message);
        mailin_embedded::response::OK
    }
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test SMTP server");
        let port = listener.local_addr().expect("SMTP address").port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let refusing = Arc::new(AtomicBool::new(false));
        let handler =
            SinkHandler { inbox: inbox.clone(), refusing: refusing.clone(), to: Vec::new(), data: Vec::new() };
        let mut server = mailin_embedded::Server::new(handler);
        server
            .with_name("sink.test")
            .with_ssl(mailin_embedded::SslConfig::None)
            .expect("SMTP without TLS")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        std::thread::Builder::new()
            .name(format!("smtp-sink-{port}"))
            .spawn(move || {
                if let Err(e) = server.serve() {
                    eprintln!("test SMTP server stopped: {e}");
                }
            })
            .expect("start the SMTP thread");
        SmtpSink { port, inbox, refusing }
    }

    /// While set, every recipient is refused with a transient 451.
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// An outcome email, decoded (quoted-printable/base64 parts, encoded subject).
#[derive(Debug, Clone)]
pub struct Email {
    /// Envelope recipients (SMTP) or the `To:` header (files), lowercased.
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Email {
    pub fn parse(envelope_to: Option<Vec<String>>, raw: &[u8]) -> Email {
        let message = mail_parser::MessageParser::default().parse(raw).expect("an email that parses");
        let to = envelope_to.unwrap_or_else(|| {
            message
                .to()
                .map(|a| a.iter().filter_map(|addr| addr.address()).map(str::to_lowercase).collect())
                .unwrap_or_default()
        });
        Email {
            to,
            subject: message.subject().unwrap_or_default().to_string(),
            text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            html: message.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        }
    }

    /// Subject, text and HTML together, for "does it say …" checks.
    pub fn all_text(&self) -> String {
        format!("{}\n{}\n{}", self.subject, self.text, self.html)
    }
}
