//! A Lambda Runtime API on loopback, so the real `dynamodb-backup-rule-lambda` binary runs end
//! to end: it polls `/next`, and posts responses or errors that tests read back.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What the function answered to one event.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// `POST …/response`.
    Response { id: String, body: Value },
    /// `POST …/error`: the `errorType` and `errorMessage`.
    Error {
        id: String,
        error_type: String,
        message: String,
    },
    /// `POST /runtime/init/error`.
    InitError { body: String },
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, Value)>,
    outcomes: Vec<Outcome>,
    /// When the first `/next` arrived: the function is up.
    first_poll: Option<std::time::Instant>,
    /// How long each invocation is given; `None` is Lambda's maximum of 900 s.
    deadline_after: Option<Duration>,
}

/// The fake Runtime API.
#[derive(Clone)]
pub struct RuntimeApi {
    /// Where it listens (`AWS_LAMBDA_RUNTIME_API`).
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    queued: Arc<Notify>,
    answered: Arc<Notify>,
}

/// The function ARN the fake hands out: the function lives in account 111122223333.
pub const FUNCTION_ARN: &str =
    "arn:aws:lambda:us-east-1:111122223333:function:dynamodb-backup-rule";

impl RuntimeApi {
    /// Starts on a random loopback port.
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let api = RuntimeApi {
            addr: listener.local_addr().expect("addr"),
            state: Arc::new(Mutex::new(State::default())),
            queued: Arc::new(Notify::new()),
            answered: Arc::new(Notify::new()),
        };
        let server = api.clone();
        super::serve(listener, move |req| {
            let api = server.clone();
            async move { Ok(api.handle(req).await) }
        });
        api
    }

    /// Queues an event for the function.
    pub fn push(&self, id: &str, event: Value) {
        self.state
            .lock()
            .expect("state")
            .queue
            .push_back((id.to_string(), event));
        self.queued.notify_waiters();
        self.queued.notify_one();
    }

    /// Waits until `n` outcomes have arrived (or the timeout passes) and returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Outcome> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.answered.notified();
            {
                let s = self.state.lock().expect("state");
                if s.outcomes.len() >= n {
                    return s.outcomes.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.state.lock().expect("state").outcomes.clone();
            }
        }
    }

    /// Gives every invocation from now on `d` before its deadline, as a function timeout would.
    pub fn set_deadline(&self, d: Duration) {
        self.state.lock().expect("state").deadline_after = Some(d);
    }

    /// When the function first asked for an event.
    pub fn first_poll(&self) -> Option<std::time::Instant> {
        self.state.lock().expect("state").first_poll
    }

    fn record(&self, o: Outcome) {
        self.state.lock().expect("state").outcomes.push(o);
        self.answered.notify_waiters();
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_string();
        let text = super::body_text(req).await;
        let ok = |status| {
            Response::builder()
                .status(status)
                .body(Full::new(Bytes::new()))
                .expect("response")
        };
        if path == "/2018-06-01/runtime/invocation/next" {
            self.state
                .lock()
                .expect("state")
                .first_poll
                .get_or_insert_with(std::time::Instant::now);
            loop {
                let notified = self.queued.notified();
                let next = {
                    let mut s = self.state.lock().expect("state");
                    let after = s.deadline_after.unwrap_or(Duration::from_secs(900));
                    s.queue.pop_front().map(|e| (e, after))
                };
                if let Some(((id, event), after)) = next {
                    let deadline = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() + after.as_millis())
                        .unwrap_or_default();
                    return Response::builder()
                        .status(StatusCode::OK)
                        .header("lambda-runtime-aws-request-id", id)
                        .header("lambda-runtime-deadline-ms", deadline.to_string())
                        .header("lambda-runtime-invoked-function-arn", FUNCTION_ARN)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(event.to_string())))
                        .expect("response");
                }
                // With nothing queued the request stays open, as the real API does.
                notified.await;
            }
        }
        if path == "/2018-06-01/runtime/init/error" {
            self.record(Outcome::InitError { body: text });
            return ok(StatusCode::ACCEPTED);
        }
        let parts: Vec<&str> = path
            .trim_start_matches("/2018-06-01/runtime/invocation/")
            .split('/')
            .collect();
        match parts.as_slice() {
            [id, "response"] => {
                let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                self.record(Outcome::Response {
                    id: id.to_string(),
                    body,
                });
                ok(StatusCode::ACCEPTED)
            }
            [id, "error"] => {
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                self.record(Outcome::Error {
                    id: id.to_string(),
                    error_type: v["errorType"].as_str().unwrap_or_default().to_string(),
                    message: v["errorMessage"].as_str().unwrap_or_default().to_string(),
                });
                ok(StatusCode::ACCEPTED)
            }
            _ => ok(StatusCode::NOT_FOUND),
        }
    }
}
