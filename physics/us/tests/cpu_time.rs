//! Per-stage timing of one 512×512 render per probe (ignored; run with `cargo test --release
//! -p artefact-us --test cpu_time -- --ignored --nocapture`). Reports this thread's CPU time
//! from /proc/thread-self/schedstat (Linux), which is less sensitive to machine load than wall
//! time. No assertions on time.
use artefact_us::rf::Sim;
fn cpu() -> std::time::Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    std::time::Duration::from_nanos(s.split_whitespace().next().unwrap().parse().unwrap())
}
use artefact_us::*;
mod common;
#[test]
#[ignore]
fn timing() {
    let img = common::uniform(512, 512, 0.7);
    for probe in [Probe::linear(), Probe::convex(), Probe::phased()] {
        let s = Settings::default();
        let c0 = cpu();
        let t = std::time::Instant::now();
        let sim = Sim::new(&img, &probe, &s).unwrap();
        let t1 = t.elapsed();
        let iq = sim.iq(&s, 1);
        let t2 = t.elapsed();
        eprintln!("cpu to iq {:?}", cpu() - c0);
        let env = artefact_us::envelope::envelope_iq(&iq);
        let log = artefact_us::envelope::log_compress(&env, 60.0, 0.0).unwrap();
        let t3 = t.elapsed();
        let _ = artefact_us::scan_conversion::scan_convert(&log, &sim.geom).unwrap();
        let t4 = t.elapsed();
        eprintln!("cpu to image {:?}", cpu() - c0);
        let mut n = 0usize;
        artefact_us::scatterers::for_each_scatterer(
            &sim.geom,
            sim.density,
            s.amplitude_law,
            &artefact_core::Seed::from_u64(1).child("tissue"),
            (-(sim.halo as f64), (sim.geom.n_b - 1 + sim.halo) as f64),
            sim.r_gen,
            |_, _, _| n += 1,
        );
        let t5 = t.elapsed();
        let c5 = cpu();
        eprintln!("cpu total {:?}", c5 - c0);
        eprintln!("{:?}: grid {}x{} halo {} scat {n}: prep {t1:?} iq {:?} env+log {:?} scan {:?} gen-only {:?}", probe.kind, sim.geom.n_r, sim.geom.n_b, sim.halo, t2-t1, t3-t2, t4-t3, t5-t4);
    }
}
