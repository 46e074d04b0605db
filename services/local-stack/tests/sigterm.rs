//! The `local-stack` command under a process manager: SIGTERM (what `docker stop`, systemd,
//! `timeout` and CI runners send) ends it as Ctrl-C does, after the request in flight is answered.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The child is killed if the test fails before it exits by itself.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The port of the first `http://127.0.0.1:PORT` in `line`.
fn port_in(line: &str) -> Option<u16> {
    let rest = &line[line.find("http://127.0.0.1:")? + "http://127.0.0.1:".len()..];
    rest.split('/').next()?.parse().ok()
}

/// Reads one HTTP/1.1 response with a Content-Length body: (status, body).
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap_or_else(|e| {
            panic!(
                "a response head after {:?}: {e}",
                String::from_utf8_lossy(&head)
            )
        });
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .expect("Content-Length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (status, String::from_utf8(body).unwrap())
}

/// Polls `done` every 50 ms for up to `limit` (generous: the machine may be loaded).
fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

#[test]
fn sigterm_answers_the_request_in_flight_then_exits_0_and_frees_the_three_ports() {
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_local-stack"))
            .args(["--consumer-port", "0", "--premium-port", "0"])
            .args(["--issuer-port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("local-stack starts"),
    );
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut ports = Vec::new();
    let mut lines = stdout.lines();
    for line in lines.by_ref() {
        let line = line.expect("stdout is text");
        if line.trim_start().starts_with("issuer (local Cognito)")
            || line.trim_start().starts_with("premium-content ")
            || line.trim_start().starts_with("content-consumer ")
        {
            ports.push(port_in(&line).expect("a URL on the line"));
        }
        if line.starts_with("Serving until") {
            break;
        }
    }
    assert_eq!(
        ports.len(),
        3,
        "issuer, premium-content and content-consumer URLs"
    );
    let issuer = ports[0];

    // A token request in flight: `Expect: 100-continue` makes the issuer say when it has taken
    // the request and waits for the form body, which is sent only after SIGTERM.
    let form = "grant_type=client_credentials&client_id=nobody&client_secret=wrong";
    let mut conn = TcpStream::connect(("127.0.0.1", issuer)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        conn,
        "POST /oauth2/token HTTP/1.1\r\nHost: local-stack\r\nExpect: 100-continue\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        form.len()
    )
    .unwrap();
    let mut interim = [0u8; 25];
    conn.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");

    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    // Stopping has begun once new connections are refused.
    assert!(
        within(Duration::from_secs(20), || TcpStream::connect((
            "127.0.0.1",
            issuer
        ))
        .is_err()),
        "the issuer still accepts connections after SIGTERM"
    );
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );

    // Held past the moment the idle servers have stopped (actix-server used to end the whole
    // runtime 300 ms after one of them stopped on a signal, cutting this request off), and well
    // within the issuer's 2 s shutdown timeout. Then the body: the request is answered (a wrong
    // client: Cognito's 400 invalid_client).
    std::thread::sleep(Duration::from_millis(600));
    conn.write_all(form.as_bytes()).unwrap();
    let (status, body) = read_response(&mut conn);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body, r#"{"error":"invalid_client"}"#);
    drop(conn);

    let mut exit: Option<ExitStatus> = None;
    let exited = within(Duration::from_secs(30), || {
        exit = child.0.try_wait().unwrap();
        exit.is_some()
    });
    assert!(exited, "local-stack still runs 30 s after SIGTERM");
    assert!(exit.unwrap().success(), "exit status {exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "local-stack: stopped"), "{rest:?}");
    for port in ports {
        TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("port {port} is still taken after exit: {e}"));
    }
}
