//! The bit reader of a JPEG-LS scan (ITU-T T.87 § A.1 and § D.1): bits are read most
//! significant first; after a 0xFF byte the next byte carries only 7 data bits (its top bit
//! is a stuffed 0), and 0xFF followed by a byte ≥ 0x80 is a marker, which ends the data.

use crate::Error;

pub(crate) struct Bits<'a> {
    data: &'a [u8],
    /// Next byte to load.
    pos: usize,
    acc: u64,
    /// Valid bits in `acc` (the top `n` bits).
    n: u32,
    prev_ff: bool,
    /// Zero bits appended after a marker or the end of the data.
    padded: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Bits<'a> {
        Bits {
            data,
            pos,
            acc: 0,
            n: 0,
            prev_ff: false,
            padded: 0,
            at_marker: false,
        }
    }

    fn fill(&mut self) {
        while self.n <= 56 {
            if self.at_marker || self.pos >= self.data.len() {
                self.at_marker = true;
                self.padded += 8;
                self.n += 8;
                continue;
            }
            let b = self.data[self.pos];
            if b == 0xFF && self.data.get(self.pos + 1).is_some_and(|&m| m >= 0x80) {
                self.at_marker = true;
                continue;
            }
            self.pos += 1;
            if self.prev_ff {
                self.acc |= ((b & 0x7F) as u64) << (64 - 7 - self.n);
                self.n += 7;
            } else {
                self.acc |= (b as u64) << (64 - 8 - self.n);
                self.n += 8;
            }
            self.prev_ff = b == 0xFF;
        }
    }

    /// Read `k` ≤ 32 bits.
    pub fn read(&mut self, k: u32) -> u32 {
        if k == 0 {
            return 0;
        }
        if self.n < k {
            self.fill();
        }
        let v = (self.acc >> (64 - k)) as u32;
        self.acc <<= k;
        self.n -= k;
        v
    }

    pub fn bit(&mut self) -> bool {
        self.read(1) == 1
    }

    /// Count 0 bits before the next 1 bit (consumed), giving up after `max` zeros.
    pub fn unary(&mut self, max: u32) -> Result<u32, Error> {
        let mut q = 0;
        loop {
            if self.n == 0 {
                self.fill();
            }
            let z = self.acc.leading_zeros().min(self.n);
            if z < self.n {
                q += z;
                if q > max {
                    return Err(Error::Corrupt("Golomb code longer than LIMIT".into()));
                }
                self.acc <<= z + 1;
                self.n -= z + 1;
                return Ok(q);
            }
            q += self.n;
            self.acc = 0;
            self.n = 0;
            if q > max {
                return Err(Error::Corrupt("Golomb code longer than LIMIT".into()));
            }
        }
    }

    /// Fails when bits beyond the end of the entropy-coded data were used.
    pub fn check(&self) -> Result<(), Error> {
        if self.padded > self.n {
            return Err(Error::Truncated(
                "entropy-coded data ends before the scan is complete".into(),
            ));
        }
        Ok(())
    }

    /// Drop the buffered bits and return the byte position of the next marker (skipping any
    /// bytes left before it and 0xFF fill bytes).
    pub fn end(self) -> usize {
        let d = self.data;
        let mut p = self.pos;
        while p + 1 < d.len() {
            if d[p] == 0xFF && d[p + 1] >= 0x80 && d[p + 1] != 0xFF {
                return p;
            }
            p += 1;
        }
        d.len()
    }
}
