//! Where a build's time goes (`build --timings`): wall time of each stage (load and prepare
//! the sources, plan, render, finish: questions, exports, audit) and, for rendering, the time
//! the workers spent per attribute (simulate, measure, display, encode) and writing files.
//! Printed to stderr only: timings vary from run to run and never enter an output file.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Stage and per-attribute times of one build.
#[derive(Debug, Default)]
pub struct Timings {
    stages: Mutex<Vec<(&'static str, Duration)>>,
    /// modality and attribute (or `clean`) → (worker time rendering, images)
    render: Mutex<BTreeMap<String, (Duration, usize)>>,
    write: Mutex<Duration>,
    /// worker time loading sources again for rendering, and how many
    reload: Mutex<(Duration, usize)>,
}

impl Timings {
    /// Record the wall time of a finished stage.
    pub fn stage(&self, name: &'static str, since: Instant) {
        self.stages
            .lock()
            .expect("timings")
            .push((name, since.elapsed()));
    }

    /// Add the worker time of one rendered image.
    pub fn rendered(&self, attribute: Option<&str>, took: Duration) {
        let mut m = self.render.lock().expect("timings");
        let e = m
            .entry(attribute.unwrap_or("clean").to_string())
            .or_default();
        e.0 += took;
        e.1 += 1;
    }

    /// Add worker time spent writing an image's files.
    pub fn wrote(&self, took: Duration) {
        *self.write.lock().expect("timings") += took;
    }

    /// Add the worker time of loading one source again for rendering.
    pub fn reloaded(&self, took: Duration) {
        let mut r = self.reload.lock().expect("timings");
        r.0 += took;
        r.1 += 1;
    }

    /// The report (stages, then the render split by attribute, slowest first).
    pub fn report(&self) -> String {
        let mut s = String::from("stage                       wall s\n");
        let stages = self.stages.lock().expect("timings");
        let total: Duration = stages.iter().map(|(_, d)| *d).sum();
        for (name, d) in stages.iter() {
            s.push_str(&format!("{name:<27} {:>8.2}\n", d.as_secs_f64()));
        }
        s.push_str(&format!("{:<27} {:>8.2}\n", "total", total.as_secs_f64()));
        let render = self.render.lock().expect("timings");
        let worker: Duration = render.values().map(|(d, _)| *d).sum();
        let images: usize = render.values().map(|(_, n)| *n).sum();
        s.push_str(&format!(
            "\nrendering: {images} images, {:.2} worker-s ({:.1} ms per image); writing files {:.2} worker-s\n",
            worker.as_secs_f64(),
            1e3 * worker.as_secs_f64() / images.max(1) as f64,
            self.write.lock().expect("timings").as_secs_f64()
        ));
        let reload = *self.reload.lock().expect("timings");
        s.push_str(&format!(
            "sources loaded again for rendering: {}, {:.2} worker-s\n",
            reload.1,
            reload.0.as_secs_f64()
        ));
        if let Some(mb) = peak_rss_mb() {
            s.push_str(&format!("peak resident memory so far: {mb:.0} MB\n"));
        }
        s.push_str("modality attribute            images   worker s   ms/image   share\n");
        let mut rows: Vec<_> = render.iter().collect();
        rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        for (name, (d, n)) in rows {
            s.push_str(&format!(
                "{name:<28} {n:>6} {:>10.2} {:>10.1} {:>6.1}%\n",
                d.as_secs_f64(),
                1e3 * d.as_secs_f64() / (*n).max(1) as f64,
                100.0 * d.as_secs_f64() / worker.as_secs_f64().max(1e-12)
            ));
        }
        s
    }
}

/// Peak resident set size of this process in MB (Linux: `VmHWM` of `/proc/self/status`).
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
