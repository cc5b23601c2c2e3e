use std::process::ExitCode;

use clap::Parser;
use emr_conformance::cli::{self, Cli, Command};
use emr_conformance::exit;

/// The mock keeps millions of small rows and answers with large bodies;
/// glibc's allocator spent about a third of seeding and of a large FHIR
/// search coalescing free chunks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cli = match cli.command {
        // The bench builds its own runtimes (server and client apart).
        Command::Bench(args) => {
            return finish(emr_conformance::bench::run(args, &mut std::io::stdout()))
        }
        command => Cli { command },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => cli::run(*args, &mut out, &mut err).await,
            Command::Mock(args) => cli::mock(args, &mut out).await,
            Command::List(args) => cli::list(args, &mut out, &mut err),
            Command::Diff(args) => emr_conformance::live::diff(args, &mut out, &mut err),
            Command::Auth(args) => emr_conformance::live::auth(args, &mut out, &mut err).await,
            Command::Bench(_) => unreachable!("the bench returned before the runtime started"),
        }
    });
    finish(result)
}

/// The process's exit code for a command's result; an error is a usage error.
fn finish<E: std::fmt::Display>(result: Result<u8, E>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::INVALID)
        }
    }
}
