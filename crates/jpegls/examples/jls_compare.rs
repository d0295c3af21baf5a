//! Decode `X.jls` files and compare them with `X.raw` (little-endian u16 samples, pixel
//! interleaved), as written by a reference decoder: `jls_compare DIR`.
fn main() {
    let dir = std::env::args().nth(1).expect("usage: jls_compare DIR");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jls"))
        .collect();
    names.sort();
    for p in names {
        let data = std::fs::read(&p).expect("read");
        let want: Vec<u16> = std::fs::read(p.with_extension("raw"))
            .expect("raw")
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        match artefact_jpegls::decode(&data) {
            Err(e) => println!("{}: error {e}", p.display()),
            Ok(img) => {
                let diff = img
                    .samples
                    .iter()
                    .zip(&want)
                    .filter(|(a, b)| a != b)
                    .count();
                let first = img.samples.iter().zip(&want).position(|(a, b)| a != b);
                println!("{}: {}x{}x{} P{} NEAR {} — {} of {} samples differ (first at {:?}), len {} vs {}", p.display(), img.width, img.height, img.components, img.precision, img.near, diff, want.len(), first, img.samples.len(), want.len());
            }
        }
    }
}
