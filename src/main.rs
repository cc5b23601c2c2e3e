use std::process::ExitCode;

use clap::Parser;
use emr_conformance::cli::{self, Cli, Command};
use emr_conformance::exit;

/// The mock keeps millions of small rows and answers with large bodies;
/// glibc's allocator spent about a third of seeding and of a large FHIR
/// search coalescing free chunks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps the process's memory in 4 KiB pages. mimalloc asks the kernel
/// for transparent huge pages on its arenas, and a 2 MiB page is resident
/// as a whole once any byte of it is touched: a seeded store's rows,
/// strings and index nodes spread over size-class pages left about a
/// sixth of the mock's resident memory in the untouched parts of huge
/// pages (OSCAR, 100,000 patients: 336 MB resident with them, 292 MB
/// without), and seeding was no slower in small pages (the kernel zeroes
/// only the pages used). Applies to the mappings of the whole process
/// from here on, as `MIMALLOC_ALLOW_THP=0` would from the start.
fn use_small_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no
    // memory of ours; a kernel without it answers an error, which leaves
    // the process as it was.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    use_small_pages();
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
