//! Where a seeded store's memory goes: the live heap after seeding, counted
//! by a global allocator that wraps mimalloc (the allocator the
//! `emr-conformance` binary serves with), then what each clinical table
//! gives back when it is dropped, per row, beside the row struct's size.
//! The rest (patients, appointments, the name and slot indexes, the
//! configuration tables) is what remains.
//!
//! `cargo run --release -p emr-mock --example seed_memory -- [PATIENTS] [oscar|openemr]`
//!
//! The live heap does not depend on the machine; the resident figure
//! printed beside it does (page size, transparent huge pages: run with
//! `MIMALLOC_ALLOW_THP=0` to match the binary, which opts out of them).

use std::alloc::{GlobalAlloc, Layout};
use std::process::ExitCode;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use emr_catalog::Family;
use emr_mock::store::{seed, Data, Record, SeedConfig, Table};

/// mimalloc, counting the bytes and blocks asked for and given back.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to mimalloc unchanged; the counters are
// atomics and allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Relaxed);
        LIVE_BLOCKS.fetch_add(1, Relaxed);
        ALLOCATIONS.fetch_add(1, Relaxed);
        mimalloc::MiMalloc.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Relaxed);
        mimalloc::MiMalloc.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        ALLOCATIONS.fetch_add(1, Relaxed);
        mimalloc::MiMalloc.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> (isize, isize) {
    (LIVE_BYTES.load(Relaxed), LIVE_BLOCKS.load(Relaxed))
}

fn mb(bytes: isize) -> f64 {
    bytes as f64 / 1e6
}

/// Drops a table and prints what it gave back.
fn drop_table<T: Record>(name: &str, table: &mut Table<T>) {
    let rows = table.len();
    let (bytes, blocks) = live();
    drop(std::mem::take(table));
    let (freed, freed_blocks) = (bytes - live().0, blocks - live().1);
    let per_row = if rows == 0 { 0 } else { freed / rows as isize };
    println!(
        "  {name:24} {rows:>9} rows {:>8.1} MB {freed_blocks:>9} blocks {per_row:>5} B/row (row struct {} B)",
        mb(freed),
        std::mem::size_of::<T>(),
    );
}

/// A `kB` line of `/proc/self/status`, in MB.
fn status_mb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let patients = match args.first().map(|a| a.parse::<usize>()) {
        None => 100_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: seed_memory [PATIENTS] [oscar|openemr]");
            return ExitCode::from(2);
        }
    };
    let family = match args.get(1).map(String::as_str) {
        None | Some("oscar") => Family::Oscar,
        Some("openemr") => Family::OpenEmr,
        Some(other) => {
            eprintln!("unknown family {other:?}: oscar or openemr");
            return ExitCode::from(2);
        }
    };
    let cfg = SeedConfig {
        patients,
        family,
        ..SeedConfig::default()
    };

    let (before, _) = live();
    let allocations = ALLOCATIONS.load(Relaxed);
    let started = Instant::now();
    let mut d: Data = seed::generate(&cfg);
    let secs = started.elapsed().as_secs_f64();
    let (bytes, blocks) = live();
    println!(
        "{family:?}, {patients} patients ({} appointments): live heap {:.1} MB in {blocks} blocks; {} allocations while seeding; {secs:.2} s; resident {:.1} MB",
        d.appointments().len(),
        mb(bytes - before),
        ALLOCATIONS.load(Relaxed) - allocations,
        status_mb("VmRSS:").unwrap_or(f64::NAN),
    );
    drop_table("allergies", &mut d.allergies);
    drop_table("immunizations", &mut d.immunizations);
    drop_table("measurements", &mut d.measurements);
    drop_table("medications", &mut d.medications);
    drop_table("prescriptions", &mut d.prescriptions);
    drop_table("problems", &mut d.problems);
    drop_table("encounters", &mut d.encounters);
    drop_table("notes", &mut d.notes);
    drop_table("documents", &mut d.documents);
    drop_table("labs", &mut d.labs);
    drop_table("insurances", &mut d.insurances);
    drop_table("transactions", &mut d.transactions);
    drop_table("questionnaire_responses", &mut d.questionnaire_responses);
    drop_table("schedule_days", &mut d.schedule_days);
    let (rest, rest_blocks) = live();
    println!(
        "  the rest (patients {} B, appointments {} B a row; name and slot indexes; configuration): {:.1} MB in {rest_blocks} blocks",
        std::mem::size_of::<emr_mock::store::Patient>(),
        std::mem::size_of::<emr_mock::store::Appointment>(),
        mb(rest - before),
    );
    ExitCode::SUCCESS
}
