//! The long soak: `cargo bench -p kosmo-tests --bench soak -- [--calls N] [--seed S]
//! [--rate R] [--concurrency C]`. 10,000 calls at 1 % faults by default, with a seed from the
//! clock unless given; it prints the seed first, so a failing run can be told again. Exits 1
//! when an invariant broke.

use std::process::ExitCode;

use kosmo_tests::soak::{SoakConfig, run};

fn main() -> ExitCode {
    let mut config = SoakConfig {
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1),
        ..SoakConfig::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        let parsed = match arg.as_str() {
            "--calls" => value().parse().map(|v| config.calls = v).is_ok(),
            "--seed" => value().parse().map(|v| config.seed = v).is_ok(),
            "--rate" => value().parse().map(|v| config.fault_rate = v).is_ok(),
            "--concurrency" => value().parse().map(|v| config.concurrency = v).is_ok(),
            // What `cargo bench` passes to every bench.
            "--bench" => true,
            _ => false,
        };
        if !parsed {
            eprintln!("soak: bad argument {arg}; use --calls N --seed S --rate R --concurrency C");
            return ExitCode::from(2);
        }
    }
    println!(
        "soak: {} calls, seed {}, fault rate {}, concurrency {}",
        config.calls, config.seed, config.fault_rate, config.concurrency
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("soak: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&config)) {
        Ok(report) => {
            println!("{report}");
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("soak: {error}");
            ExitCode::FAILURE
        }
    }
}
