//! Writes a synthetic snapshot for benchmarks:
//! `cargo run --release --example gen_snapshot -- --tables 10000 --selections 1000 > s.json`

use clap::Parser;
#[path = "../tests/util/synth.rs"]
mod synth;

use synth::{generate, SynthConfig};

/// Generate a deterministic synthetic account snapshot on stdout.
#[derive(Parser)]
struct Args {
    /// Number of tables.
    #[arg(long, default_value_t = 10_000)]
    tables: usize,
    /// Number of selections (100 per plan).
    #[arg(long, default_value_t = 1_000)]
    selections: usize,
    /// PRNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Mix in ambiguous and degenerate constructs.
    #[arg(long)]
    adversarial: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = Args::parse();
    let file = generate(SynthConfig {
        tables: a.tables,
        selections: a.selections,
        seed: a.seed,
        adversarial: a.adversarial,
    });
    let out = std::io::stdout();
    serde_json::to_writer(std::io::BufWriter::new(out.lock()), &file)?;
    Ok(())
}
