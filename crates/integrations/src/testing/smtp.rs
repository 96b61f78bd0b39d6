//! A real SMTP server for tests: Debian's `python3-aiosmtpd` on a free port, saving each
//! accepted message to a folder. A recipient whose address starts with `reject` is refused with
//! a permanent `550`, one starting with `busy` with a transient `451`. Missing Python or
//! aiosmtpd fails the test loudly (scripts/ensure-test-deps.sh installs them).

use std::{path::PathBuf, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

const SERVER: &str = r#"
import os, sys
from aiosmtpd.controller import Controller

out, port = sys.argv[1], int(sys.argv[2])

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("busy"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(out) if f.endswith(".eml")])
        tmp = os.path.join(out, ".incoming")
        with open(tmp, "wb") as f:
            f.write(("X-Envelope-From: %s\r\n" % envelope.mail_from).encode())
            f.write(("X-Envelope-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            content = envelope.original_content or envelope.content
            f.write(content if isinstance(content, bytes) else content.encode())
        os.rename(tmp, os.path.join(out, "%04d.eml" % n))
        return "250 2.0.0 accepted"

controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"#;

const PYTHON: &str = "/usr/bin/python3";

pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    dir: PathBuf,
    _child: Child,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("flightdeck-smtp-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mail folder");
        // Debian's interpreter, where python3-aiosmtpd installs: a `python3` earlier on PATH
        // (pyenv, a venv) would not have it.
        let mut child = Command::new(PYTHON)
            .arg("-c")
            .arg(SERVER)
            .arg(&dir)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("/usr/bin/python3 must be installed to run the SMTP server (scripts/ensure-test-deps.sh)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("aiosmtpd did not start within 20 s");
        assert_eq!(
            first.ok().flatten().as_deref(),
            Some("ready"),
            "aiosmtpd failed to start: is python3-aiosmtpd installed? (scripts/ensure-test-deps.sh)"
        );
        SmtpServer {
            host: "127.0.0.1".into(),
            port,
            dir,
            _child: child,
        }
    }

    /// Every accepted message (headers and body as received), in arrival order.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .expect("mail folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("a saved message"))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
