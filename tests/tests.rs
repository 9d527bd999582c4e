//! One integration-test binary, split by subject; shared helpers live in `util`.

mod util;

mod aws_adapters;
mod bad_input_props;
mod chaos;
mod check_template;
mod cli;
mod cli_live;
mod concurrency;
mod docs;
mod events;
mod formats;
mod hook;
mod index_equivalence;
mod lambda;
mod layering;
mod matcher_props;
mod periodic;
mod policy;
mod real_account;
mod remediate;
mod remediate_real_cli;
mod remediate_shell;
mod securityhub_import;
mod templates;
mod vault_lock;
mod vectors;
