//! The project's benchmark accounts: `benches/gen_snapshot.py`, a verbatim copy of the shared
//! generator (`../shared/bench/gen_snapshot.py`; `tests/vectors.rs` checks the copy where both
//! exist), run with `python3`. The performance targets are measured on these accounts.

/// The snapshot JSON `gen_snapshot.py ARGS` writes, or `None` without `python3`.
pub fn shared_account_json(args: &[&str]) -> Option<String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/gen_snapshot.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    String::from_utf8(out.stdout).ok()
}
