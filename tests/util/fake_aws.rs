//! An in-process fake AWS endpoint on 127.0.0.1: the real SDK clients talk to it over HTTP.
//!
//! It speaks the wire protocols the rule uses: AWS Backup REST-JSON, Config and DynamoDB JSON
//! (`X-Amz-Target`), and STS query/XML. State is per account and Region, seeded from snapshot
//! documents. The account of a request is read from its SigV4 access key (`AKIDFAKE<account>`,
//! or `ASIAFAKE<account>` for credentials the fake STS issued), the Region and service from the
//! credential scope. Pages are forced small so paging is exercised, errors are injected per
//! operation, and every request is logged for tests to count.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// The base credentials tests give the SDK: account 111122223333.
pub const BASE_ACCESS_KEY: &str = "AKIDFAKE111122223333";
/// A recognisable secret, so a test can prove it never reaches a log.
pub const BASE_SECRET: &str = "FAKESECRETdoNotLog0123456789abcdefABCDEF";
/// The secret and token the fake STS hands out, equally recognisable.
pub const ISSUED_SECRET: &str = "ISSUEDSECRETdoNotLog0123456789abcdefABCD";
/// The session token the fake STS hands out.
pub const ISSUED_TOKEN: &str = "ISSUEDTOKENdoNotLog";

/// One logged request.
#[derive(Debug, Clone)]
pub struct Logged {
    /// `backup`, `config`, `dynamodb`, `sts`.
    pub service: String,
    /// The operation, e.g. `ListBackupPlans`.
    pub op: String,
    /// The account the credentials belong to.
    pub account: String,
    /// The Region of the credential scope.
    pub region: String,
    /// Whether the request followed a page token.
    pub paged: bool,
}

/// One `PutEvaluations` call received.
#[derive(Debug, Clone)]
pub struct Put {
    /// The account it was made as.
    pub account: String,
    /// `ResultToken`.
    pub result_token: String,
    /// `TestMode`.
    pub test_mode: bool,
    /// `Evaluations`.
    pub evaluations: Vec<Value>,
}

/// One write request received, as sent.
#[derive(Debug, Clone)]
pub struct Write {
    /// The operation, e.g. `UpdateBackupPlan`.
    pub op: String,
    /// The account it was made as.
    pub account: String,
    /// The Region of its credential scope.
    pub region: String,
    /// The URI path's segments (Backup's REST parameters).
    pub path: Vec<String>,
    /// The JSON body.
    pub body: Value,
}

/// How the fake answers one request.
enum Reply {
    /// A response.
    Send(Response<Full<Bytes>>),
    /// Nothing until well after the client's attempt timeout.
    Slow(std::time::Duration),
    /// The connection is dropped.
    Reset,
}

/// Random faults at a rate, for the chaos test.
#[derive(Debug, Clone, Copy)]
pub struct Chaos {
    /// Percentage of requests faulted (STS excluded).
    pub percent: u64,
    /// How long a slow response takes (longer than the client's attempt timeout).
    pub slow: std::time::Duration,
    rng: u64,
}

impl Chaos {
    /// Faults `percent`% of requests, reproducibly from `seed`.
    pub fn new(percent: u64, seed: u64, slow: std::time::Duration) -> Chaos {
        Chaos {
            percent,
            slow,
            rng: seed | 1,
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The kinds of chaos, and how often each is chosen among the faulted requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChaosKind {
    /// `ThrottlingException`.
    Throttle,
    /// HTTP 500.
    Status500,
    /// HTTP 503.
    Status503,
    /// The connection is reset.
    Reset,
    /// A response slower than the client's attempt timeout.
    Slow,
    /// A 200 with a truncated JSON body.
    Truncated,
    /// A page whose `NextToken` leads to an error.
    BadToken,
}

const CHAOS_KINDS: [(ChaosKind, u64); 7] = [
    (ChaosKind::Throttle, 25),
    (ChaosKind::Status500, 15),
    (ChaosKind::Status503, 15),
    (ChaosKind::Reset, 15),
    (ChaosKind::Slow, 5),
    (ChaosKind::Truncated, 15),
    (ChaosKind::BadToken, 10),
];

/// The token the chaos hands out that no request may follow.
const BAD_TOKEN: &str = "chaos-token-that-leads-nowhere";

/// A fault to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `ThrottlingException` (the SDK retries it).
    Throttle,
    /// `AccessDeniedException`.
    AccessDenied,
    /// HTTP 500 `InternalServerError` (the SDK retries it).
    ServerError,
    /// `ResourceNotFoundException`, as for a resource deleted a moment ago.
    NotFound,
    /// A 200 with an empty JSON object: a response that omits what it should carry.
    Empty,
    /// A 502 whose body is an HTML page, as a corporate proxy or captive portal answers.
    ProxyHtml,
}

#[derive(Default)]
struct RegionState {
    /// `DescribeConfigurationRecorders`' recorders; `None` means one recording everything.
    recorders: Option<Value>,
    /// `DescribeConfigurationRecorderStatus`' statuses; `None` means `default` recording, with
    /// `lastStatus` in upper case as the service sends it.
    recorder_status: Option<Value>,
    /// What Config's inventory (`SelectResourceConfig`) shows; `None` means exactly `tables`.
    /// A frozen copy lags behind DynamoDB, as under a stopped recorder.
    config_tables: Option<Vec<Value>>,
    /// Vaults deleted under the plans that still target them.
    deleted_vaults: Vec<String>,
    settings: Option<Value>,
    management: Option<Value>,
    /// Plans in snapshot shape (with `Selections`).
    plans: Vec<Value>,
    /// Tables in snapshot shape.
    tables: Vec<Value>,
    /// Vaults in `DescribeBackupVault` shape; when empty, every vault a rule targets exists,
    /// unlocked.
    vaults: Vec<Value>,
}

impl RegionState {
    /// The Region's vaults: the listed ones, or else every vault a rule targets, less the
    /// deleted ones.
    fn vault_list(&self) -> Vec<Value> {
        let mut list = self.vaults.clone();
        if list.is_empty() {
            let mut names: Vec<String> = self
                .plans
                .iter()
                .flat_map(|p| p["Rules"].as_array().cloned().unwrap_or_default())
                .map(|r| {
                    r["TargetBackupVaultName"]
                        .as_str()
                        .unwrap_or("Default")
                        .to_string()
                })
                .collect();
            names.sort();
            names.dedup();
            list = names
                .into_iter()
                .map(|n| json!({"BackupVaultName": n, "Locked": false}))
                .collect();
        }
        list.retain(|v| {
            !self
                .deleted_vaults
                .iter()
                .any(|d| v["BackupVaultName"] == d.as_str())
        });
        list
    }
}

/// One result Config keeps for a rule and resource.
#[derive(Debug, Clone)]
pub struct StoredResult {
    /// `ComplianceResourceType`.
    pub resource_type: String,
    /// `ComplianceType`.
    pub compliance: String,
    /// `Annotation`.
    pub annotation: Option<String>,
    /// `OrderingTimestamp`, epoch seconds.
    pub ordering: f64,
    /// `ResultRecordedTime`, epoch seconds.
    pub recorded: f64,
}

/// The rule name the tests' events carry.
pub const RULE: &str = "dynamodb-table-in-backup-plan";

fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A held request: the test waits until it is reached, then releases it.
#[derive(Clone, Default)]
pub struct Gate {
    reached: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

impl Gate {
    /// Waits until the held request arrives.
    pub async fn reached(&self) {
        tokio::time::timeout(std::time::Duration::from_secs(60), self.reached.notified())
            .await
            .expect("the gated request never came");
    }

    /// Lets it through.
    pub fn release(&self) {
        self.release.notify_one();
    }
}

#[derive(Default)]
struct State {
    regions: HashMap<(String, String), RegionState>,
    /// Requests held until the test releases them: (operation, only for this account, how many
    /// matching requests pass first, the gate).
    gates: Vec<(String, Option<String>, usize, Gate)>,
    /// Whether a put replaces a result whatever its OrderingTimestamp.
    last_arrival_wins: bool,
    log: Vec<Logged>,
    /// Write requests, in order.
    writes: Vec<Write>,
    puts: Vec<Put>,
    faults: Vec<(String, Fault, usize)>,
    /// Faults that start after some calls of the operation succeeded: (op, calls to let
    /// through, fault, times).
    later: Vec<(String, usize, Fault, usize)>,
    /// Tables whose Config inventory row carries a malformed `tags`.
    malformed_tags: Vec<String>,
    reject_evaluations: usize,
    /// Rejected evaluations come back with a resource ID the caller never sent.
    reject_unmatched: bool,
    assumed_roles: Vec<String>,
    page_size: usize,
    /// Results Config keeps per account and rule: resource id -> result.
    results: HashMap<(String, String), HashMap<String, StoredResult>>,
    /// The rule each result token belongs to; an unknown token belongs to [`RULE`].
    token_rules: HashMap<String, String>,
    /// Requests-per-second limits per operation, enforced over a sliding second.
    limits: HashMap<String, (usize, std::collections::VecDeque<std::time::Instant>)>,
    /// How many requests each operation had throttled by a limit.
    throttled: HashMap<String, usize>,
    /// Added to every response, so concurrency shows.
    latency: std::time::Duration,
    /// Requests being answered now, and the most there ever were.
    in_flight: usize,
    max_in_flight: usize,
    /// Random faults, when a chaos test asks for them.
    chaos: Option<Chaos>,
    /// How many faults of each kind were injected.
    injected: HashMap<ChaosKind, usize>,
}

/// The fake endpoint. Dropping it leaves the server task running until the test's runtime ends.
#[derive(Clone)]
pub struct FakeAws {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

fn pascal_time() -> f64 {
    1_714_564_800.0
}

impl FakeAws {
    /// Starts the endpoint on a random loopback port, inside the current tokio runtime.
    pub async fn start() -> FakeAws {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State {
            page_size: 2,
            ..State::default()
        }));
        let shared = state.clone();
        super::serve(listener, move |req| {
            let state = shared.clone();
            async move {
                let latency = {
                    let mut s = state.lock().expect("fake state");
                    s.in_flight += 1;
                    s.max_in_flight = s.max_in_flight.max(s.in_flight);
                    s.latency
                };
                if !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                let response = handle(&state, req).await;
                state.lock().expect("fake state").in_flight -= 1;
                match response {
                    Reply::Send(r) => Ok(r),
                    Reply::Slow(d) => {
                        // Longer than the client waits; it has given up by now.
                        tokio::time::sleep(d).await;
                        Ok(error(
                            "config",
                            StatusCode::SERVICE_UNAVAILABLE,
                            "ServiceUnavailableException",
                            "too late",
                        ))
                    }
                    // An error from the service makes hyper drop the connection.
                    Reply::Reset => Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "chaos",
                    )),
                }
            }
        });
        FakeAws { addr, state }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("fake state"))
    }

    /// Loads a snapshot document (our file format) as the state of its account.
    pub fn load_snapshot(&self, snapshot: &Value) {
        let account = snapshot["AccountId"]
            .as_str()
            .expect("AccountId")
            .to_string();
        self.with(|s| {
            for (region, r) in snapshot["Regions"].as_object().expect("Regions") {
                s.regions.insert(
                    (account.clone(), region.clone()),
                    RegionState {
                        recorders: None,
                        settings: r.get("ResourceTypeOptInPreference").cloned(),
                        management: r.get("ResourceTypeManagementPreference").cloned(),
                        plans: r["BackupPlans"].as_array().cloned().unwrap_or_default(),
                        tables: r["Tables"].as_array().cloned().unwrap_or_default(),
                        vaults: r["BackupVaults"].as_array().cloned().unwrap_or_default(),
                        ..RegionState::default()
                    },
                );
            }
        });
    }

    /// The write requests received, in order.
    pub fn writes(&self) -> Vec<Write> {
        self.with(|s| s.writes.clone())
    }

    /// The account's state, back in the snapshot format: what the writes made of it.
    pub fn snapshot(&self, account: &str) -> Value {
        self.with(|s| {
            let mut regions = serde_json::Map::new();
            for ((a, region), r) in &s.regions {
                if a != account {
                    continue;
                }
                let mut doc = json!({"BackupPlans": r.plans, "Tables": r.tables, "BackupVaults": r.vault_list()});
                if let Some(v) = &r.settings {
                    doc["ResourceTypeOptInPreference"] = v.clone();
                }
                regions.insert(region.clone(), doc);
            }
            json!({"AccountId": account, "Regions": regions})
        })
    }

    /// Faults a share of all requests from now on.
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        self.with(|s| s.chaos = chaos);
    }

    /// How many faults of each kind were injected.
    pub fn injected(&self) -> HashMap<ChaosKind, usize> {
        self.with(|s| s.injected.clone())
    }

    /// Delays every response, as a real endpoint's latency would.
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.with(|s| s.latency = latency);
    }

    /// The most requests that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.with(|s| s.max_in_flight)
    }

    /// Sets the page size of every paged list.
    pub fn set_page_size(&self, n: usize) {
        self.with(|s| s.page_size = n.max(1));
    }

    /// The next `times` calls of `op` fail with `fault`.
    pub fn fail(&self, op: &str, fault: Fault, times: usize) {
        self.with(|s| s.faults.push((op.to_string(), fault, times)));
    }

    /// Forgets the faults `fail` set that have not fired yet.
    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    /// After `skip` calls of `op` succeed, the next `times` fail with `fault`.
    pub fn fail_later(&self, op: &str, skip: usize, fault: Fault, times: usize) {
        self.with(|s| s.later.push((op.to_string(), skip, fault, times)));
    }

    /// Config's inventory row for this table carries a `tags` that is not a list of pairs.
    pub fn malform_tags(&self, name: &str) {
        self.with(|s| s.malformed_tags.push(name.to_string()));
    }

    /// The next `times` `PutEvaluations` calls report every evaluation as failed.
    pub fn reject_evaluations(&self, times: usize) {
        self.with(|s| s.reject_evaluations = times);
    }

    /// Like `reject_evaluations`, but Config's copies name resources the caller never sent.
    pub fn reject_evaluations_unmatched(&self, times: usize) {
        self.with(|s| {
            s.reject_evaluations = times;
            s.reject_unmatched = true;
        });
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.with(|s| s.log.clone())
    }

    /// How many requests of `op` (any service) so far.
    pub fn count(&self, op: &str) -> usize {
        self.with(|s| s.log.iter().filter(|l| l.op == op).count())
    }

    /// Requests to AWS Backup so far.
    pub fn backup_requests(&self) -> usize {
        self.with(|s| s.log.iter().filter(|l| l.service == "backup").count())
    }

    /// Every `PutEvaluations` received.
    pub fn puts(&self) -> Vec<Put> {
        self.with(|s| s.puts.clone())
    }

    /// Roles assumed through the fake STS.
    pub fn assumed_roles(&self) -> Vec<String> {
        self.with(|s| s.assumed_roles.clone())
    }

    /// Replaces an account's and Region's configuration recorders (`[]`: Config records nothing).
    pub fn set_recorders(&self, account: &str, region: &str, recorders: Value) {
        self.with(|s| {
            s.regions
                .entry((account.to_string(), region.to_string()))
                .or_default()
                .recorders = Some(recorders)
        });
    }

    /// Makes Config keep a result for a resource under [`RULE`], as an earlier run would have
    /// left it a day ago.
    pub fn report(&self, account: &str, resource_type: &str, id: &str, compliance: &str) {
        self.with(|s| {
            s.results
                .entry((account.to_string(), RULE.to_string()))
                .or_default()
                .insert(
                    id.to_string(),
                    StoredResult {
                        resource_type: resource_type.to_string(),
                        compliance: compliance.to_string(),
                        annotation: None,
                        ordering: pascal_time(),
                        recorded: epoch_now() - 86_400.0,
                    },
                );
        });
    }

    /// What the dashboard shows for an account under [`RULE`]: resource id -> compliance, for
    /// COMPLIANT and NON_COMPLIANT results.
    pub fn reported(&self, account: &str) -> HashMap<String, String> {
        self.results(account)
            .into_iter()
            .filter(|(_, r)| r.compliance != "NOT_APPLICABLE")
            .map(|(k, r)| (k, r.compliance))
            .collect()
    }

    /// Every result Config keeps for an account under [`RULE`].
    pub fn results(&self, account: &str) -> HashMap<String, StoredResult> {
        self.with(|s| {
            s.results
                .get(&(account.to_string(), RULE.to_string()))
                .cloned()
                .unwrap_or_default()
        })
    }

    /// Ages every result Config keeps for an account by `secs`, as if recorded that long before.
    pub fn age_results(&self, account: &str, secs: f64) {
        self.with(|s| {
            for r in s
                .results
                .iter_mut()
                .filter(|((a, _), _)| a == account)
                .flat_map(|(_, m)| m.values_mut())
            {
                r.recorded -= secs;
                r.ordering -= secs;
            }
        });
    }

    /// Puts made with `token` belong to `rule`.
    pub fn token_rule(&self, token: &str, rule: &str) {
        self.with(|s| {
            s.token_rules.insert(token.to_string(), rule.to_string());
        });
    }

    /// Sets an account's and Region's recorder statuses (`DescribeConfigurationRecorderStatus`).
    pub fn set_recorder_status(&self, account: &str, region: &str, statuses: Value) {
        self.with(|s| {
            s.regions
                .entry((account.to_string(), region.to_string()))
                .or_default()
                .recorder_status = Some(statuses)
        });
    }

    /// Freezes Config's inventory of an account and Region as it is now: later table changes
    /// reach DynamoDB but not `SelectResourceConfig`.
    pub fn freeze_config_inventory(&self, account: &str, region: &str) {
        self.with(|s| {
            let r = s
                .regions
                .entry((account.to_string(), region.to_string()))
                .or_default();
            r.config_tables = Some(r.tables.clone());
        });
    }

    /// Lets Config's inventory follow DynamoDB again after [`FakeAws::freeze_config_inventory`].
    pub fn unfreeze_config_inventory(&self, account: &str, region: &str) {
        self.with(|s| {
            if let Some(r) = s
                .regions
                .get_mut(&(account.to_string(), region.to_string()))
            {
                r.config_tables = None;
            }
        });
    }

    /// Deletes a plan: `ListBackupPlans` no longer lists it.
    pub fn delete_plan(&self, account: &str, region: &str, plan_id: &str) {
        self.with(|s| {
            if let Some(r) = s
                .regions
                .get_mut(&(account.to_string(), region.to_string()))
            {
                r.plans.retain(|p| p["BackupPlanId"] != plan_id);
            }
        });
    }

    /// Sets the Region's `ResourceTypeOptInPreference` for DynamoDB.
    pub fn set_dynamodb_opt_in(&self, account: &str, region: &str, on: bool) {
        self.with(|s| {
            let r = s
                .regions
                .entry((account.to_string(), region.to_string()))
                .or_default();
            let settings = r.settings.get_or_insert_with(|| json!({}));
            settings["DynamoDB"] = json!(on);
        });
    }

    /// Deletes a vault under the plans that target it: `ListBackupVaults` no longer lists it
    /// and `DescribeBackupVault` answers 403, as AWS does.
    pub fn delete_vault(&self, account: &str, region: &str, name: &str) {
        self.with(|s| {
            s.regions
                .entry((account.to_string(), region.to_string()))
                .or_default()
                .deleted_vaults
                .push(name.to_string())
        });
    }

    /// Replaces a table's tags in DynamoDB (and in Config's inventory unless it is frozen).
    pub fn set_tags(&self, account: &str, region: &str, name: &str, tags: Value) {
        self.with(|s| {
            if let Some(r) = s
                .regions
                .get_mut(&(account.to_string(), region.to_string()))
            {
                for t in r.tables.iter_mut().filter(|t| t["TableName"] == name) {
                    t["Tags"] = tags.clone();
                }
            }
        });
    }

    /// How many catalog loads so far: every sweep starts with `ListBackupPlans` (first page).
    pub fn catalog_loads(&self) -> usize {
        self.with(|s| {
            s.log
                .iter()
                .filter(|l| l.op == "ListBackupPlans" && !l.paged)
                .count()
        })
    }

    /// Makes the last result to arrive win, whatever its OrderingTimestamp (Config does not
    /// document which it keeps).
    pub fn set_last_arrival_wins(&self, on: bool) {
        self.with(|s| s.last_arrival_wins = on);
    }

    /// How many times the whole catalog was read: `GetBackupSelection` calls over the number of
    /// selections (revalidations that reuse selections by ID read none), rounded up.
    pub fn full_catalog_reads(&self) -> usize {
        self.with(|s| {
            let gets = s
                .log
                .iter()
                .filter(|l| l.op == "GetBackupSelection")
                .count();
            let selections: usize = s
                .regions
                .values()
                .flat_map(|r| r.plans.iter())
                .map(|p| p["Selections"].as_array().map_or(0, Vec::len))
                .sum();
            gets.div_ceil(selections.max(1))
        })
    }

    /// Throttles `op` beyond `per_second` requests in any second, as AWS does.
    pub fn limit(&self, op: &str, per_second: usize) {
        self.with(|s| {
            s.limits
                .insert(op.to_string(), (per_second, Default::default()))
        });
    }

    /// How many `op` requests a limit throttled.
    pub fn throttled(&self, op: &str) -> usize {
        self.with(|s| s.throttled.get(op).copied().unwrap_or(0))
    }

    /// Adds tables to an account's Region.
    pub fn add_tables(&self, account: &str, region: &str, tables: Vec<Value>) {
        self.with(|s| {
            s.regions
                .entry((account.to_string(), region.to_string()))
                .or_default()
                .tables
                .extend(tables)
        });
    }

    /// Holds the request for `op` that comes after `skip` others, until [`Gate::release`]: a
    /// test orders two containers' calls exactly as it wants.
    pub fn gate(&self, op: &str, skip: usize) -> Gate {
        let gate = Gate::default();
        self.with(|s| s.gates.push((op.to_string(), None, skip, gate.clone())));
        gate
    }

    /// Removes a selection from a plan, as `DeleteBackupSelection` would.
    pub fn remove_selection(&self, account: &str, region: &str, plan_id: &str, selection_id: &str) {
        self.with(|s| {
            if let Some(r) = s
                .regions
                .get_mut(&(account.to_string(), region.to_string()))
            {
                if let Some(p) = r.plans.iter_mut().find(|p| p["BackupPlanId"] == plan_id) {
                    if let Some(list) = p["Selections"].as_array_mut() {
                        list.retain(|sel| sel["SelectionId"] != selection_id);
                    }
                }
            }
        });
    }

    /// Adds a selection to a plan, as `CreateBackupSelection` would.
    pub fn add_selection(&self, account: &str, region: &str, plan_id: &str, selection: Value) {
        self.with(|s| {
            let r = s
                .regions
                .entry((account.to_string(), region.to_string()))
                .or_default();
            if let Some(p) = r.plans.iter_mut().find(|p| p["BackupPlanId"] == plan_id) {
                if let Some(list) = p["Selections"].as_array_mut() {
                    list.push(selection);
                }
            }
        });
    }

    /// Removes a table from an account's Region (it was deleted).
    pub fn drop_table(&self, account: &str, region: &str, name: &str) {
        self.with(|s| {
            if let Some(r) = s
                .regions
                .get_mut(&(account.to_string(), region.to_string()))
            {
                r.tables.retain(|t| t["TableName"] != name)
            }
        });
    }
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", "fake-request-id")
        .body(Full::new(Bytes::from(body)))
        .expect("response")
}

fn json_ok(v: Value) -> Response<Full<Bytes>> {
    respond(StatusCode::OK, "application/json", v.to_string())
}

/// An error in the shape of the service's protocol.
fn error(service: &str, status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let mut r = match service {
        "backup" => respond(
            status,
            "application/json",
            json!({"message": message}).to_string(),
        ),
        _ => respond(
            status,
            "application/x-amz-json-1.1",
            json!({"__type": format!("com.amazonaws.fake#{code}"), "message": message}).to_string(),
        ),
    };
    r.headers_mut()
        .insert("x-amzn-errortype", code.parse().expect("header"));
    r
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| percent_decode(&v.replace('+', " ")))
    })
}

/// (access key, Region, service) from the SigV4 credential scope.
fn credential_scope(req: &Request<Incoming>) -> Option<(String, String, String)> {
    let auth = req.headers().get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?.split(',').next()?;
    let parts: Vec<&str> = cred.split('/').collect();
    Some((
        parts.first()?.to_string(),
        parts.get(2)?.to_string(),
        parts.get(3)?.to_string(),
    ))
}

fn page<T: Clone>(items: &[T], token: Option<&str>, size: usize) -> (Vec<T>, Option<String>) {
    let start: usize = token.and_then(|t| t.parse().ok()).unwrap_or(0);
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    (items.get(start..end).unwrap_or_default().to_vec(), next)
}

/// The header by which `answer` asks the connection handler to misbehave.
const CHAOS_HEADER: &str = "x-fake-chaos";

async fn handle(state: &Arc<Mutex<State>>, req: Request<Incoming>) -> Reply {
    let response = answer(state, req).await;
    let chaos = response
        .headers()
        .get(CHAOS_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match chaos.as_deref() {
        Some("reset") => Reply::Reset,
        Some(ms) => Reply::Slow(std::time::Duration::from_millis(ms.parse().unwrap_or(1000))),
        None => Reply::Send(response),
    }
}

fn chaos_marker(value: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header(CHAOS_HEADER, value)
        .body(Full::new(Bytes::new()))
        .expect("response")
}

/// An injected fault for `op`, if the dice say so.
fn roll_chaos(s: &mut State, service: &str, op: &str) -> Option<Response<Full<Bytes>>> {
    let chaos = s.chaos.as_mut()?;
    if service == "sts" || chaos.next() % 100 >= chaos.percent {
        return None;
    }
    let total: u64 = CHAOS_KINDS.iter().map(|(_, w)| w).sum();
    let mut pick = chaos.next() % total;
    let kind = CHAOS_KINDS
        .iter()
        .find(|(_, w)| {
            if pick < *w {
                true
            } else {
                pick -= w;
                false
            }
        })
        .map_or(ChaosKind::Throttle, |(k, _)| *k);
    let list_key = match op {
        "ListBackupPlans" => Some("BackupPlansList"),
        "ListBackupSelections" => Some("BackupSelectionsList"),
        "SelectResourceConfig" => Some("Results"),
        "GetComplianceDetailsByConfigRule" => Some("EvaluationResults"),
        "ListTagsOfResource" => Some("Tags"),
        _ => None,
    };
    let kind = match (kind, list_key) {
        (ChaosKind::BadToken, None) => ChaosKind::Throttle,
        (k, _) => k,
    };
    let slow = chaos.slow;
    *s.injected.entry(kind).or_default() += 1;
    Some(match kind {
        ChaosKind::Throttle => error(
            service,
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate exceeded",
        ),
        ChaosKind::Status500 => error(
            service,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "chaos 500",
        ),
        ChaosKind::Status503 => error(
            service,
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            "chaos 503",
        ),
        ChaosKind::Reset => chaos_marker("reset".into()),
        ChaosKind::Slow => chaos_marker(slow.as_millis().to_string()),
        ChaosKind::Truncated => respond(
            StatusCode::OK,
            "application/json",
            "{\"Results\": [\"trunc".into(),
        ),
        ChaosKind::BadToken => {
            json_ok(json!({list_key.unwrap_or("Items"): [], "NextToken": BAD_TOKEN}))
        }
    })
}

async fn answer(state: &Arc<Mutex<State>>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let Some((key, region, service)) = credential_scope(&req) else {
        return error(
            "config",
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "unsigned request",
        );
    };
    let account = key.get(8..20).unwrap_or_default().to_string();
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split('.').nth(1))
        .map(str::to_string);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let body_text = super::body_text(req).await;

    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let op = match service.as_str() {
        "backup" => match (
            method.as_str(),
            segments
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
        ) {
            ("GET", ["account-settings"]) => "DescribeRegionSettings".to_string(),
            ("GET", ["backup", "plans"]) => "ListBackupPlans".to_string(),
            ("GET", ["backup", "plans", _]) => "GetBackupPlan".to_string(),
            ("GET", ["backup", "plans", _, "selections"]) => "ListBackupSelections".to_string(),
            ("GET", ["backup", "plans", _, "selections", _]) => "GetBackupSelection".to_string(),
            ("GET", ["backup-vaults"]) => "ListBackupVaults".to_string(),
            ("PUT", ["backup", "plans", _, "selections"]) => "CreateBackupSelection".to_string(),
            ("DELETE", ["backup", "plans", _, "selections", _]) => {
                "DeleteBackupSelection".to_string()
            }
            ("POST", ["backup", "plans", _]) => "UpdateBackupPlan".to_string(),
            ("PUT", ["backup-vaults", _, "vault-lock"]) => {
                "PutBackupVaultLockConfiguration".to_string()
            }
            ("PUT", ["account-settings"]) => "UpdateRegionSettings".to_string(),
            ("GET", ["backup-vaults", _]) => "DescribeBackupVault".to_string(),
            ("GET", ["resources", _, "recovery-points"]) => {
                "ListRecoveryPointsByResource".to_string()
            }
            _ => format!("Unknown {method} {path}"),
        },
        "sts" => query_param(&body_text, "Action").unwrap_or_else(|| "Unknown".into()),
        "securityhub" if method == "POST" && path == "/findings/import" => {
            "BatchImportFindings".to_string()
        }
        _ => target.clone().unwrap_or_else(|| "Unknown".into()),
    };

    // A gated request waits, before anything else, until the test releases it.
    let gate = {
        let mut s = state.lock().expect("fake state");
        let at = s
            .gates
            .iter()
            .position(|(o, only, _, _)| *o == op && only.as_deref().is_none_or(|a| a == account));
        match at {
            Some(i) if s.gates[i].2 > 0 => {
                s.gates[i].2 -= 1;
                None
            }
            Some(i) => Some(s.gates.remove(i).3),
            None => None,
        }
    };
    if let Some(gate) = gate {
        gate.reached.notify_one();
        gate.release.notified().await;
    }

    let mut s = state.lock().expect("fake state");
    let paged = query_param(&query, "nextToken").is_some()
        || serde_json::from_str::<Value>(&body_text)
            .ok()
            .is_some_and(|b| !b["NextToken"].is_null() || !b["PaginationToken"].is_null());
    s.log.push(Logged {
        service: service.clone(),
        op: op.clone(),
        account: account.clone(),
        region: region.clone(),
        paged,
    });
    let mut fault = None;
    if let Some(slot) = s.faults.iter_mut().find(|(o, _, n)| *o == op && *n > 0) {
        slot.2 -= 1;
        fault = Some(slot.1);
    } else if let Some(slot) = s.later.iter_mut().find(|(o, _, _, n)| *o == op && *n > 0) {
        if slot.1 > 0 {
            slot.1 -= 1;
        } else {
            slot.3 -= 1;
            fault = Some(slot.2);
        }
    }
    if let Some(fault) = fault {
        return match fault {
            Fault::Empty => json_ok(json!({})),
            Fault::ProxyHtml => respond(
                StatusCode::BAD_GATEWAY,
                "text/html",
                "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Proxy error</h1><p>The upstream server is unreachable. Contact your network administrator.</p></body></html>".to_string(),
            ),
            Fault::Throttle => error(
                &service,
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate exceeded",
            ),
            Fault::AccessDenied => error(
                &service,
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                &format!("User is not authorized to perform: {service}:{op}"),
            ),
            Fault::ServerError => error(
                &service,
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "fake 500",
            ),
            Fault::NotFound => error(
                &service,
                StatusCode::BAD_REQUEST,
                "ResourceNotFoundException",
                "Requested resource not found",
            ),
        };
    }
    if let Some((limit, window)) = s.limits.get_mut(&op) {
        let now = std::time::Instant::now();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1))
        {
            window.pop_front();
        }
        if window.len() >= *limit {
            *s.throttled.entry(op.clone()).or_default() += 1;
            return error(
                &service,
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate exceeded",
            );
        }
        window.push_back(now);
    }
    if query_param(&query, "nextToken").as_deref() == Some(BAD_TOKEN)
        || body_text.contains(BAD_TOKEN)
    {
        return error(
            &service,
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            "invalid next token",
        );
    }
    if let Some(r) = roll_chaos(&mut s, &service, &op) {
        return r;
    }
    let size = s.page_size;
    let input: Value = serde_json::from_str(&body_text).unwrap_or(Value::Null);
    let key_of = (account.clone(), region.clone());

    match (service.as_str(), op.as_str()) {
        ("sts", "AssumeRole") => {
            let role = query_param(&body_text, "RoleArn").unwrap_or_default();
            let role_account = role.split(':').nth(4).unwrap_or_default().to_string();
            s.assumed_roles.push(role.clone());
            let xml = format!(
                "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
<AssumedRoleUser><AssumedRoleId>AROAFAKE:dynamodb-backup-rule</AssumedRoleId><Arn>{role}</Arn></AssumedRoleUser>\
<Credentials><AccessKeyId>ASIAFAKE{role_account}</AccessKeyId><SecretAccessKey>{ISSUED_SECRET}</SecretAccessKey>\
<SessionToken>{ISSUED_TOKEN}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
</AssumeRoleResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></AssumeRoleResponse>"
            );
            respond(StatusCode::OK, "text/xml", xml)
        }
        ("sts", "GetCallerIdentity") => respond(
            StatusCode::OK,
            "text/xml",
            format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
<Arn>arn:aws:iam::{account}:user/tester</Arn><UserId>AIDAFAKE</UserId><Account>{account}</Account>\
</GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            ),
        ),
        (
            "backup",
            "CreateBackupSelection" | "DeleteBackupSelection" | "UpdateBackupPlan"
            | "PutBackupVaultLockConfiguration" | "UpdateRegionSettings",
        ) => {
            s.writes.push(Write { op: op.clone(), account: account.clone(), region: region.clone(),
                path: segments.clone(), body: input.clone() });
            let r = s.regions.entry(key_of).or_default();
            match backup_write(r, &op, &segments, &input) {
                Ok(v) => json_ok(v),
                Err((status, code, message)) => error("backup", status, code, &message),
            }
        }
        ("backup", _) => {
            let r = s.regions.entry(key_of).or_default();
            match op.as_str() {
                "DescribeRegionSettings" => {
                    let mut out = json!({});
                    if let Some(v) = &r.settings {
                        out["ResourceTypeOptInPreference"] = v.clone();
                    }
                    if let Some(v) = &r.management {
                        out["ResourceTypeManagementPreference"] = v.clone();
                    }
                    json_ok(out)
                }
                "ListBackupPlans" => {
                    let active: Vec<Value> = r.plans.iter().filter(|p| p["DeletionDate"].is_null()).cloned().collect();
                    let (items, next) = page(&active, query_param(&query, "nextToken").as_deref(), size);
                    let list: Vec<Value> = items
                        .iter()
                        .map(|p| {
                            json!({"BackupPlanId": p["BackupPlanId"], "BackupPlanName": p["BackupPlanName"],
                                "BackupPlanArn": p.get("BackupPlanArn").cloned().unwrap_or(Value::Null),
                                "VersionId": p.get("VersionId").cloned().unwrap_or(json!("v1")),
                                "CreationDate": pascal_time()})
                        })
                        .collect();
                    json_ok(json!({"BackupPlansList": list, "NextToken": next}))
                }
                "GetBackupPlan" => match r.plans.iter().find(|p| p["BackupPlanId"] == segments[2].as_str()) {
                    Some(p) => {
                        // Every member the plan holds, as AWS returns it, with the output-only
                        // RuleId AWS assigns.
                        let rules: Vec<Value> = p["Rules"].as_array().cloned().unwrap_or_default().into_iter().enumerate().map(|(i, mut r)| {
                            if r.get("TargetBackupVaultName").is_none() {
                                r["TargetBackupVaultName"] = json!("Default");
                            }
                            if r.get("RuleId").is_none() {
                                r["RuleId"] = json!(format!("rule-{i}"));
                            }
                            r
                        }).collect();
                        let mut plan = json!({"BackupPlanName": p["BackupPlanName"], "Rules": rules});
                        for k in ["AdvancedBackupSettings", "ScanSettings"] {
                            if let Some(v) = p.get(k) {
                                plan[k] = v.clone();
                            }
                        }
                        json_ok(json!({"BackupPlanId": p["BackupPlanId"],
                            "VersionId": p.get("VersionId").cloned().unwrap_or(json!("v1")), "BackupPlan": plan}))
                    }
                    None => error("backup", StatusCode::NOT_FOUND, "ResourceNotFoundException", "no such plan"),
                },
                "ListBackupSelections" | "GetBackupSelection" => {
                    let Some(p) = r.plans.iter().find(|p| p["BackupPlanId"] == segments[2].as_str()) else {
                        return error("backup", StatusCode::NOT_FOUND, "ResourceNotFoundException", "no such plan");
                    };
                    let selections = p["Selections"].as_array().cloned().unwrap_or_default();
                    if op == "ListBackupSelections" {
                        let (items, next) = page(&selections, query_param(&query, "nextToken").as_deref(), size);
                        let list: Vec<Value> = items
                            .iter()
                            .map(|x| json!({"SelectionId": x["SelectionId"], "SelectionName": x["BackupSelection"]["SelectionName"],
                                "BackupPlanId": p["BackupPlanId"], "CreationDate": pascal_time()}))
                            .collect();
                        json_ok(json!({"BackupSelectionsList": list, "NextToken": next}))
                    } else {
                        match selections.iter().find(|x| x["SelectionId"] == segments[4].as_str()) {
                            Some(x) => json_ok(json!({"BackupPlanId": p["BackupPlanId"], "SelectionId": x["SelectionId"],
                                "BackupSelection": x["BackupSelection"], "CreationDate": pascal_time()})),
                            None => error("backup", StatusCode::NOT_FOUND, "ResourceNotFoundException", "no such selection"),
                        }
                    }
                }
                "ListBackupVaults" => {
                    let list: Vec<Value> = r.vault_list().iter().map(|v| {
                        let name = v["BackupVaultName"].as_str().unwrap_or_default();
                        json!({"BackupVaultName": name,
                            "BackupVaultArn": format!("arn:aws:backup:{region}:{account}:backup-vault:{name}"),
                            "Locked": v["Locked"], "MinRetentionDays": v["MinRetentionDays"], "MaxRetentionDays": v["MaxRetentionDays"],
                            "LockDate": v.get("LockDate").and_then(Value::as_str)
                                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                                .map(|d| d.timestamp() as f64),
                            "NumberOfRecoveryPoints": 0, "CreationDate": pascal_time()})
                    }).collect();
                    let (items, next) = page(&list, query_param(&query, "nextToken").as_deref(), size);
                    json_ok(json!({"BackupVaultList": items, "NextToken": next}))
                }
                "DescribeBackupVault" => {
                    let name = segments[1].as_str();
                    // AWS answers 403, not 404, for a vault that does not exist (spec §9).
                    let Some(v) = r.vault_list().into_iter().find(|v| v["BackupVaultName"] == name) else {
                        return error("backup", StatusCode::FORBIDDEN, "AccessDeniedException", "Insufficient privileges to perform this action.");
                    };
                    json_ok(json!({"BackupVaultName": name,
                        "BackupVaultArn": format!("arn:aws:backup:{region}:{account}:backup-vault:{name}"),
                        "Locked": v["Locked"], "MinRetentionDays": v["MinRetentionDays"], "MaxRetentionDays": v["MaxRetentionDays"],
                        "NumberOfRecoveryPoints": 0, "CreationDate": pascal_time()}))
                }
                "ListRecoveryPointsByResource" => {
                    let arn = segments[1].as_str();
                    let points: Vec<Value> = r.tables.iter().find(|t| t["TableArn"] == arn)
                        .and_then(|t| t["RecoveryPoints"].as_array().cloned())
                        .unwrap_or_default()
                        .iter()
                        .map(|p| {
                            let created = p["CreationDate"].as_str()
                                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                                .map_or(pascal_time(), |c| c.timestamp() as f64);
                            json!({"RecoveryPointArn": p.get("RecoveryPointArn").cloned().unwrap_or(json!("arn:aws:backup:rp")),
                                "CreationDate": created, "Status": p["Status"], "BackupVaultName": "Default"})
                        })
                        .collect();
                    let (items, next) = page(&points, query_param(&query, "nextToken").as_deref(), size);
                    json_ok(json!({"RecoveryPoints": items, "NextToken": next}))
                }
                _ => error("backup", StatusCode::NOT_FOUND, "UnknownOperationException", &op),
            }
        }
        ("config", "GetResourceConfigHistory") => {
            let r = s.regions.entry(key_of).or_default();
            let id = input["resourceId"].as_str().unwrap_or_default();
            let items: Vec<Value> = r
                .tables
                .iter()
                .filter(|t| t["TableName"] == id)
                .map(|t| {
                    let tags: serde_json::Map<String, Value> = t["Tags"]
                        .as_array()
                        .map(|a| a.iter().map(|kv| (kv["Key"].as_str().unwrap_or_default().to_string(), kv["Value"].clone())).collect())
                        .unwrap_or_default();
                    json!({"version": "1.3", "accountId": account, "configurationItemCaptureTime": input["laterTime"].clone(),
                        "configurationItemStatus": "OK", "resourceType": "AWS::DynamoDB::Table", "resourceId": id,
                        "resourceName": id, "arn": t["TableArn"], "awsRegion": region,
                        "configuration": json!({"tableName": id, "tableStatus": t.get("TableStatus").cloned().unwrap_or(json!("ACTIVE"))}).to_string(),
                        "tags": tags})
                })
                .collect();
            json_ok(json!({"configurationItems": items}))
        }
        ("config", "DescribeConfigurationRecorderStatus") => {
            let r = s.regions.entry(key_of).or_default();
            let statuses = r.recorder_status.clone().unwrap_or_else(|| {
                json!([{"name": "default", "recording": true, "lastStatus": "SUCCESS",
                    "lastStartTime": pascal_time(), "lastStatusChangeTime": pascal_time()}])
            });
            json_ok(json!({"ConfigurationRecordersStatus": statuses}))
        }
        ("config", "DescribeConfigurationRecorders") => {
            let r = s.regions.entry(key_of).or_default();
            let recorders = r.recorders.clone().unwrap_or_else(|| {
                json!([{"name": "default", "roleARN": format!("arn:aws:iam::{account}:role/config"),
                    "recordingGroup": {"allSupported": true, "includeGlobalResourceTypes": false, "resourceTypes": []}}])
            });
            json_ok(json!({"ConfigurationRecorders": recorders}))
        }
        ("config", "SelectResourceConfig") => {
            let r = s.regions.entry(key_of).or_default();
            let limit = input["Limit"].as_u64().map_or(size, |l| (l as usize).min(size));
            // Page first, then render only that page's rows.
            let shown = r.config_tables.as_ref().unwrap_or(&r.tables);
            let (items, next) = page(shown, input["NextToken"].as_str(), limit);
            let rows: Vec<String> = items
                .iter()
                .map(|t| {
                    let tags: Vec<Value> = t["Tags"].as_array().cloned().unwrap_or_default().iter()
                        .map(|kv| json!({"key": kv["Key"], "value": kv["Value"], "tag": format!("{}={}", kv["Key"].as_str().unwrap_or_default(), kv["Value"].as_str().unwrap_or_default())}))
                        .collect();
                    let broken = s.malformed_tags.iter().any(|n| t["TableName"] == n.as_str());
                    let tags = if broken { json!("env=prod") } else { json!(tags) };
                    json!({"resourceId": t["TableName"], "resourceName": t["TableName"], "arn": t["TableArn"],
                        "awsRegion": region, "accountId": account, "configurationItemStatus": "OK",
                        "configuration": {"tableStatus": t.get("TableStatus").cloned().unwrap_or(json!("ACTIVE"))},
                        "tags": tags})
                    .to_string()
                })
                .collect();
            json_ok(json!({"Results": rows, "NextToken": next,
                "QueryInfo": {"SelectFields": [{"Name": "resourceId"}]}}))
        }
        ("config", "GetComplianceDetailsByConfigRule") => {
            let rule = input["ConfigRuleName"].as_str().unwrap_or_default().to_string();
            let types: Vec<String> = input["ComplianceTypes"].as_array().map(|a| {
                a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect()
            }).unwrap_or_default();
            if types.len() > 3 || types.iter().any(|t| t == "INSUFFICIENT_DATA") {
                return error("config", StatusCode::BAD_REQUEST, "InvalidParameterValueException",
                    "ComplianceTypes takes at most 3 values, not INSUFFICIENT_DATA");
            }
            let stored = s.results.get(&(account.clone(), rule.clone())).cloned().unwrap_or_default();
            let mut rows: Vec<(String, StoredResult)> = stored
                .into_iter()
                .filter(|(_, r)| types.is_empty() || types.contains(&r.compliance))
                .collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            // Config's default page is 10 and its maximum 100.
            let limit = input["Limit"].as_u64().map_or(10, |l| (l as usize).clamp(1, 100)).min(size.max(10));
            let (items, next) = page(&rows, input["NextToken"].as_str(), limit);
            let out: Vec<Value> = items
                .iter()
                .map(|(id, r)| json!({"EvaluationResultIdentifier": {"EvaluationResultQualifier": {
                    "ConfigRuleName": rule, "ResourceType": r.resource_type, "ResourceId": id, "EvaluationMode": "DETECTIVE"},
                    "OrderingTimestamp": r.ordering},
                    "ComplianceType": r.compliance, "Annotation": r.annotation,
                    "ResultRecordedTime": r.recorded, "ConfigRuleInvokedTime": r.recorded}))
                .collect();
            json_ok(json!({"EvaluationResults": out, "NextToken": next}))
        }
        ("config", "GetComplianceDetailsByResource") => {
            // Every rule's result for one resource, as Config returns them.
            let (rtype, id) = (input["ResourceType"].as_str().unwrap_or_default(), input["ResourceId"].as_str().unwrap_or_default());
            if rtype.is_empty() || id.is_empty() {
                return error("config", StatusCode::BAD_REQUEST, "InvalidParameterValueException",
                    "ResourceType and ResourceId are required");
            }
            let types: Vec<String> = input["ComplianceTypes"].as_array().map(|a| {
                a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect()
            }).unwrap_or_default();
            let out: Vec<Value> = s.results.iter()
                .filter(|((acct, _), _)| *acct == account)
                .filter_map(|((_, rule), kept)| kept.get(id).map(|r| (rule, r)))
                .filter(|(_, r)| r.resource_type == rtype && (types.is_empty() || types.contains(&r.compliance)))
                .map(|(rule, r)| json!({"EvaluationResultIdentifier": {"EvaluationResultQualifier": {
                    "ConfigRuleName": rule, "ResourceType": r.resource_type, "ResourceId": id, "EvaluationMode": "DETECTIVE"},
                    "OrderingTimestamp": r.ordering},
                    "ComplianceType": r.compliance, "Annotation": r.annotation,
                    "ResultRecordedTime": r.recorded, "ConfigRuleInvokedTime": r.recorded}))
                .collect();
            json_ok(json!({"EvaluationResults": out}))
        }
        ("config", "PutEvaluations") => {
            let evaluations = input["Evaluations"].as_array().cloned().unwrap_or_default();
            let token = input["ResultToken"].as_str().unwrap_or_default().to_string();
            let last_arrival_wins = s.last_arrival_wins;
            if !input["TestMode"].as_bool().unwrap_or(false) && s.reject_evaluations == 0 {
                let rule = s.token_rules.get(&token).cloned().unwrap_or_else(|| RULE.to_string());
                let kept = s.results.entry((account.clone(), rule)).or_default();
                for e in &evaluations {
                    let id = e["ComplianceResourceId"].as_str().unwrap_or_default().to_string();
                    let ordering = e["OrderingTimestamp"].as_f64().unwrap_or_default();
                    // Not documented: which result Config keeps when an older OrderingTimestamp
                    // arrives after a newer one. By default the latest timestamp wins; tests
                    // that must not rely on it make the last arrival win instead.
                    if !last_arrival_wins && kept.get(&id).is_some_and(|old| old.ordering > ordering) {
                        continue;
                    }
                    kept.insert(id, StoredResult {
                        resource_type: e["ComplianceResourceType"].as_str().unwrap_or_default().to_string(),
                        compliance: e["ComplianceType"].as_str().unwrap_or_default().to_string(),
                        annotation: e["Annotation"].as_str().map(str::to_string),
                        ordering,
                        recorded: epoch_now(),
                    });
                }
            }
            s.puts.push(Put {
                account: account.clone(),
                result_token: token,
                test_mode: input["TestMode"].as_bool().unwrap_or(false),
                evaluations: evaluations.clone(),
            });
            if s.reject_evaluations > 0 {
                s.reject_evaluations -= 1;
                let mut failed = evaluations.clone();
                if s.reject_unmatched {
                    for e in &mut failed {
                        let id = e["ComplianceResourceId"].as_str().unwrap_or_default().to_uppercase();
                        e["ComplianceResourceId"] = json!(id);
                    }
                }
                return json_ok(json!({"FailedEvaluations": failed}));
            }
            json_ok(json!({"FailedEvaluations": []}))
        }
        ("tagging", "GetResources") => {
            let r = s.regions.entry(key_of).or_default();
            let tagged: Vec<Value> = r.tables.iter()
                .filter(|t| t["Tags"].as_array().is_some_and(|a| !a.is_empty()))
                .map(|t| json!({"ResourceARN": t["TableArn"], "Tags": t["Tags"]}))
                .collect();
            let per_page = input["ResourcesPerPage"].as_u64().map_or(50, |n| n as usize).min(size.max(1));
            let token = input["PaginationToken"].as_str().filter(|t| !t.is_empty());
            let (items, next) = page(&tagged, token, per_page);
            json_ok(json!({"ResourceTagMappingList": items, "PaginationToken": next.unwrap_or_default()}))
        }
        ("dynamodb", "ListTagsOfResource") => {
            let r = s.regions.entry(key_of).or_default();
            let arn = input["ResourceArn"].as_str().unwrap_or_default();
            match r.tables.iter().find(|t| t["TableArn"] == arn) {
                Some(t) => {
                    let tags = t["Tags"].as_array().cloned().unwrap_or_default();
                    let (items, next) = page(&tags, input["NextToken"].as_str(), size);
                    json_ok(json!({"Tags": items, "NextToken": next}))
                }
                None => error("dynamodb", StatusCode::BAD_REQUEST, "ResourceNotFoundException", "no such table"),
            }
        }
        ("dynamodb", "TagResource") | ("dynamodb", "UntagResource") => {
            s.writes.push(Write { op: op.clone(), account: account.clone(), region: region.clone(),
                path: Vec::new(), body: input.clone() });
            let r = s.regions.entry(key_of).or_default();
            match tag_write(r, &op, &input) {
                Ok(()) => json_ok(json!({})),
                Err(message) => error("dynamodb", StatusCode::BAD_REQUEST, "ValidationException", &message),
            }
        }
        ("securityhub", "BatchImportFindings") => {
            // Security Hub refuses more than 100 findings a call, and findings whose product
            // ARN names another Region or account than the call's.
            let findings = input["Findings"].as_array().cloned().unwrap_or_default();
            if findings.is_empty() || findings.len() > 100 {
                return error("securityhub", StatusCode::BAD_REQUEST, "InvalidInputException",
                    &format!("Findings takes 1 to 100 findings, got {}", findings.len()));
            }
            let wanted = format!(":securityhub:{region}:{account}:");
            if let Some(f) = findings.iter().find(|f| !f["ProductArn"].as_str().is_some_and(|a| a.contains(&wanted))) {
                return error("securityhub", StatusCode::BAD_REQUEST, "InvalidInputException",
                    &format!("finding {} is not for {region} {account}", f["Id"]));
            }
            s.writes.push(Write { op: op.clone(), account: account.clone(), region: region.clone(),
                path: Vec::new(), body: json!({"Count": findings.len(),
                    "Ids": findings.iter().map(|f| f["Id"].clone()).collect::<Vec<_>>()}) });
            json_ok(json!({"FailedCount": 0, "SuccessCount": findings.len(), "FailedFindings": []}))
        }
        ("dynamodb", "ListTables") => {
            let r = s.regions.entry(key_of).or_default();
            let names: Vec<Value> = r.tables.iter().map(|t| t["TableName"].clone()).collect();
            let start = input["ExclusiveStartTableName"].as_str();
            let from = start.and_then(|n| names.iter().position(|x| x == n).map(|i| i + 1)).unwrap_or(0);
            let end = (from + size).min(names.len());
            let last = (end < names.len()).then(|| names[end - 1].clone());
            json_ok(json!({"TableNames": names[from..end], "LastEvaluatedTableName": last}))
        }
        ("dynamodb", "DescribeTable") => {
            let r = s.regions.entry(key_of).or_default();
            let name = input["TableName"].as_str().unwrap_or_default();
            match r.tables.iter().find(|t| t["TableName"] == name) {
                Some(t) => json_ok(json!({"Table": {"TableName": name, "TableArn": t["TableArn"],
                    "TableStatus": t.get("TableStatus").cloned().unwrap_or(json!("ACTIVE"))}})),
                None => error("dynamodb", StatusCode::BAD_REQUEST, "ResourceNotFoundException", "no such table"),
            }
        }
        _ => error(&service, StatusCode::BAD_REQUEST, "UnknownOperationException", &format!("{service} {op}")),
    }
}

/// An AWS error: status, code, message.
type AwsError = (StatusCode, &'static str, String);

fn invalid(message: impl Into<String>) -> AwsError {
    (
        StatusCode::BAD_REQUEST,
        "InvalidParameterValueException",
        message.into(),
    )
}

/// `^[a-zA-Z0-9\-\_\.]{1,50}$`, the model's pattern for selection and rule names.
fn backup_name_ok(name: &str) -> bool {
    (1..=50).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// The members `BackupRuleInput` has (botocore's `backup` model): anything else is refused.
const RULE_INPUT_MEMBERS: [&str; 13] = [
    "RuleName",
    "TargetBackupVaultName",
    "TargetLogicallyAirGappedBackupVaultArn",
    "ScheduleExpression",
    "StartWindowMinutes",
    "CompletionWindowMinutes",
    "Lifecycle",
    "RecoveryPointTags",
    "CopyActions",
    "EnableContinuousBackup",
    "ScheduleExpressionTimezone",
    "IndexActions",
    "ScanActions",
];

/// AWS Backup's write operations, applied to the Region's state as AWS would, and refused where
/// AWS refuses.
fn backup_write(
    r: &mut RegionState,
    op: &str,
    path: &[String],
    input: &Value,
) -> Result<Value, AwsError> {
    let plan_id = path.get(2).cloned().unwrap_or_default();
    if plan_id.starts_with("orgs/") {
        return Err((
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            "this backup plan is managed by an AWS Organizations backup policy and cannot be changed in a member account".into(),
        ));
    }
    let plan = |r: &mut RegionState| -> Result<usize, AwsError> {
        r.plans
            .iter()
            .position(|p| p["BackupPlanId"] == plan_id.as_str())
            .ok_or((
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                format!("no plan {plan_id}"),
            ))
    };
    match op {
        "CreateBackupSelection" => {
            let i = plan(r)?;
            let sel = &input["BackupSelection"];
            let name = sel["SelectionName"].as_str().unwrap_or_default();
            if !backup_name_ok(name) {
                return Err(invalid(format!(
                    "SelectionName `{name}` does not match [a-zA-Z0-9-_.]{{1,50}}"
                )));
            }
            if sel["IamRoleArn"]
                .as_str()
                .is_none_or(|a| !a.starts_with("arn:"))
            {
                return Err(invalid("IamRoleArn is required"));
            }
            let list = r.plans[i]["Selections"]
                .as_array_mut()
                .ok_or_else(|| invalid("plan has no selections list"))?;
            if list
                .iter()
                .any(|x| x["BackupSelection"]["SelectionName"] == name)
            {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "AlreadyExistsException",
                    format!("selection {name} already exists"),
                ));
            }
            let id = format!("created-{}-{}", list.len(), name);
            list.push(json!({"SelectionId": id, "BackupSelection": sel}));
            Ok(json!({"SelectionId": id, "BackupPlanId": plan_id, "CreationDate": pascal_time()}))
        }
        "DeleteBackupSelection" => {
            let i = plan(r)?;
            let id = path.get(4).cloned().unwrap_or_default();
            let list = r.plans[i]["Selections"]
                .as_array_mut()
                .ok_or_else(|| invalid("plan has no selections list"))?;
            let before = list.len();
            list.retain(|x| x["SelectionId"] != id.as_str());
            if list.len() == before {
                return Err((
                    StatusCode::NOT_FOUND,
                    "ResourceNotFoundException",
                    format!("no selection {id}"),
                ));
            }
            Ok(json!({}))
        }
        "UpdateBackupPlan" => {
            let i = plan(r)?;
            let doc = input["BackupPlan"]
                .as_object()
                .ok_or_else(|| invalid("BackupPlan is required"))?;
            for k in doc.keys() {
                if ![
                    "BackupPlanName",
                    "Rules",
                    "AdvancedBackupSettings",
                    "ScanSettings",
                ]
                .contains(&k.as_str())
                {
                    return Err(invalid(format!("unknown member BackupPlan.{k}")));
                }
            }
            let rules = doc
                .get("Rules")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid("BackupPlan.Rules is required"))?;
            for rule in rules {
                for k in rule
                    .as_object()
                    .map(|o| o.keys().collect::<Vec<_>>())
                    .unwrap_or_default()
                {
                    if !RULE_INPUT_MEMBERS.contains(&k.as_str()) {
                        return Err(invalid(format!("unknown member in BackupRuleInput: {k}")));
                    }
                }
                let name = rule["RuleName"].as_str().unwrap_or_default();
                if !backup_name_ok(name) || rule["TargetBackupVaultName"].as_str().is_none() {
                    return Err(invalid(format!(
                        "rule `{name}` needs a valid RuleName and a TargetBackupVaultName"
                    )));
                }
            }
            let p = r.plans[i]
                .as_object_mut()
                .ok_or_else(|| invalid("plan is not an object"))?;
            for k in ["AdvancedBackupSettings", "ScanSettings"] {
                p.remove(k);
            }
            for (k, v) in doc {
                p.insert(k.clone(), v.clone());
            }
            Ok(json!({"BackupPlanId": plan_id, "VersionId": "v2"}))
        }
        "PutBackupVaultLockConfiguration" => {
            let name = path.get(1).cloned().unwrap_or_default();
            let (min, max, days) = (
                input["MinRetentionDays"].as_i64(),
                input["MaxRetentionDays"].as_i64(),
                input["ChangeableForDays"].as_i64(),
            );
            if let (Some(a), Some(b)) = (min, max) {
                if a > b {
                    return Err(invalid("MinRetentionDays is greater than MaxRetentionDays"));
                }
            }
            if days.is_some_and(|d| d < 3) {
                return Err(invalid("ChangeableForDays must be at least 3"));
            }
            if r.vaults.is_empty() {
                r.vaults = r.vault_list();
            }
            let v = r
                .vaults
                .iter_mut()
                .find(|v| v["BackupVaultName"] == name.as_str())
                .ok_or((
                    StatusCode::NOT_FOUND,
                    "ResourceNotFoundException",
                    format!("no vault {name}"),
                ))?;
            let immutable = v["LockDate"]
                .as_str()
                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .is_some_and(|d| d.timestamp() as f64 <= epoch_now());
            if immutable {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestException",
                    format!("vault {name}'s lock is immutable"),
                ));
            }
            v["Locked"] = json!(true);
            for (k, x) in [("MinRetentionDays", min), ("MaxRetentionDays", max)] {
                match x {
                    Some(d) => v[k] = json!(d),
                    None => {
                        if let Some(o) = v.as_object_mut() {
                            o.remove(k);
                        }
                    }
                }
            }
            match days {
                Some(d) => {
                    v["LockDate"] = json!((chrono::Utc::now() + chrono::Duration::days(d))
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                }
                None => {
                    if let Some(o) = v.as_object_mut() {
                        o.remove("LockDate");
                    }
                }
            }
            Ok(json!({}))
        }
        "UpdateRegionSettings" => {
            let prefs = input["ResourceTypeOptInPreference"]
                .as_object()
                .ok_or_else(|| invalid("nothing to update"))?;
            let settings = r.settings.get_or_insert_with(|| json!({}));
            for (k, v) in prefs {
                settings[k] = v.clone();
            }
            Ok(json!({}))
        }
        _ => Err(invalid(format!("unknown write {op}"))),
    }
}

/// DynamoDB `TagResource` and `UntagResource`, refused as DynamoDB refuses: reserved `aws:`
/// keys, characters outside letters, numbers, white space and `+ - = . _ : /`, keys over 128
/// and values over 256 characters.
fn tag_write(r: &mut RegionState, op: &str, input: &Value) -> Result<(), String> {
    let arn = input["ResourceArn"].as_str().unwrap_or_default();
    let t = r
        .tables
        .iter_mut()
        .find(|t| t["TableArn"] == arn)
        .ok_or_else(|| format!("Requested resource not found: {arn}"))?;
    let ok_char = |c: char| c.is_alphanumeric() || c == ' ' || "+-=._:/".contains(c);
    let list = t
        .as_object_mut()
        .ok_or("table")?
        .entry("Tags")
        .or_insert_with(|| json!([]));
    let list = list.as_array_mut().ok_or("tags")?;
    if op == "TagResource" {
        let tags = input["Tags"].as_array().ok_or("Tags is required")?;
        for tag in tags {
            let (k, v) = (
                tag["Key"].as_str().unwrap_or_default(),
                tag["Value"].as_str().unwrap_or_default(),
            );
            if k.to_ascii_lowercase().starts_with("aws:") {
                return Err(format!("tag key {k} uses the reserved prefix aws:"));
            }
            if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
                return Err("tag key or value has an invalid length".into());
            }
            if !k.chars().chain(v.chars()).all(ok_char) {
                return Err(format!("invalid characters in tag {k}={v}"));
            }
        }
        for tag in tags {
            list.retain(|e| e["Key"] != tag["Key"]);
            list.push(json!({"Key": tag["Key"], "Value": tag["Value"]}));
        }
    } else {
        let keys = input["TagKeys"].as_array().ok_or("TagKeys is required")?;
        list.retain(|e| !keys.contains(&e["Key"]));
    }
    Ok(())
}
