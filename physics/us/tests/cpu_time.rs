//! Per-stage CPU time of one 512×512 render per probe (ignored; run with `cargo test --release
//! -p artefact-us --test cpu_time -- --ignored --nocapture`). Reports the minimum over
//! repetitions of this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, Linux), which is less
//! sensitive to machine load than wall time. No assertions on time.
use artefact_us::*;
use std::time::Duration;
mod common;

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}

/// This thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, Linux x86-64/aarch64; reading
/// /proc/thread-self/schedstat instead only advances at scheduler ticks).
fn cpu() -> Duration {
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: valid pointer to a timespec-layout struct; clock id 3 = CLOCK_THREAD_CPUTIME_ID
    let rc = unsafe { clock_gettime(3, &mut t) };
    assert_eq!(rc, 0);
    Duration::new(t.sec as u64, t.nsec as u32)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[test]
#[ignore]
fn timing() {
    let img = common::uniform(512, 512, 0.7);
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
        let s = Settings::default();
        let mut best = [Duration::MAX; 6];
        let mut info = String::new();
        for _ in 0..reps {
            let c0 = cpu();
            let plan = BmodePlan::for_image(&img, &probe, &s).unwrap();
            let sim = plan.grid();
            let c1 = cpu();
            let iq = plan.iq(&img, &[], 1).unwrap();
            let c2 = cpu();
            let env = artefact_us::envelope::envelope_iq(&iq);
            let log = artefact_us::envelope::log_compress(&env, 60.0, 0.0).unwrap();
            let c3 = cpu();
            // planning the table (first use) and converting
            let _ = plan.scan_plan().convert(&log).unwrap();
            let c4 = cpu();
            let mut n = 0usize;
            artefact_us::scatterers::for_each_scatterer(
                &sim.geom,
                sim.density,
                s.amplitude_law,
                &artefact_core::Seed::from_u64(1).child("tissue"),
                (-(sim.halo as f64), (sim.geom.n_b - 1 + sim.halo) as f64),
                sim.r_gen,
                |_, _, a| n += (a > 0.0) as usize,
            );
            let c5 = cpu();
            for (b, d) in
                best.iter_mut()
                    .zip([c1 - c0, c2 - c1, c3 - c2, c4 - c3, c4 - c0, c5 - c4])
            {
                *b = (*b).min(d);
            }
            info = format!(
                "grid {}x{} halo {} scatterers {n}",
                sim.geom.n_r, sim.geom.n_b, sim.halo
            );
        }
        eprintln!(
            "{:?} ({info}): min CPU ms over {reps}: prep {:.1} | iq {:.1} | env+log {:.1} | scan {:.1} | total {:.1} | (generation alone {:.1})",
            probe.kind,
            ms(best[0]),
            ms(best[1]),
            ms(best[2]),
            ms(best[3]),
            ms(best[4]),
            ms(best[5])
        );
    }
}
