//! A real SMTP server for the email tests: aiosmtpd (from PyPI, installed by `.ci/setup` into
//! `.cache/smtp-venv`) on 127.0.0.1, keeping every message it accepts in a maildir, which the
//! test reads back and parses as a mail client would.

use mail_parser::{Message, MessageParser};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;
use tokio::net::TcpStream;

pub struct SmtpServer {
    pub port: u16,
    maildir: tempfile::TempDir,
    server: Child,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// One message as it arrived: its raw bytes, parsed on demand.
pub struct Received {
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> Message<'_> {
        MessageParser::default()
            .parse(&self.raw)
            .expect("the server kept a parseable message")
    }
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let python =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/smtp-venv/bin/python");
        assert!(
            python.exists(),
            "aiosmtpd is not installed: run `bash .ci/setup` (it makes {})",
            python.display()
        );
        let port = super::free_port().await;
        let maildir = tempfile::tempdir().unwrap();
        // Held from the start, so that it is stopped (by `Drop`) whatever happens next.
        let smtp = SmtpServer {
            port,
            server: Command::new(python)
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{port}"))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                // A folder that does not exist yet, which the handler makes as a maildir.
                .arg(maildir.path().join("mail"))
                .spawn()
                .expect("aiosmtpd starts"),
            maildir,
        };
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return smtp;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("aiosmtpd did not listen on port {port} within 5 s");
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let new = self.maildir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .map(|e| {
                let e = e.unwrap();
                (e.metadata().unwrap().modified().unwrap(), e.path())
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| Received {
                raw: std::fs::read(path).unwrap(),
            })
            .collect()
    }
}
