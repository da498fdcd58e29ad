//! A tiny deterministic generator (SplitMix64).
//!
//! Why self-written: the demo must come out identical on every machine and every version of
//! every dependency (its report is a snapshot test). Ten lines of a published, well-known
//! mixing function give that without pinning a random-number crate's stream stability.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (lo when hi < lo).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = u64::try_from(hi - lo).unwrap_or(0).saturating_add(1);
        lo + i64::try_from(self.next_u64() % span).unwrap_or(0)
    }

    /// An index below `n` (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
    }
}

/// Splits `total` into `n` positive parts (when total ≥ n) that add up exactly: each part
/// gets at least half an even share, the rest is spread with random weights.
pub fn split_total(rng: &mut Rng, total: i64, n: usize) -> Vec<i64> {
    if n == 0 {
        return Vec::new();
    }
    let n64 = i64::try_from(n).unwrap_or(1);
    let base = (total / n64 / 2).max(if total >= n64 { 1 } else { 0 });
    let rest = total - base * n64;
    let weights: Vec<i64> = (0..n).map(|_| rng.range(1000, 1999)).collect();
    let wsum: i64 = weights.iter().sum();
    let mut parts: Vec<i64> = weights
        .iter()
        .map(|w| base + i128_mul_div(rest, *w, wsum))
        .collect();
    let mut left = total - parts.iter().sum::<i64>();
    let mut i = 0;
    while left > 0 {
        parts[i % n] += 1;
        left -= 1;
        i += 1;
    }
    parts
}

fn i128_mul_div(a: i64, b: i64, c: i64) -> i64 {
    if c == 0 {
        return 0;
    }
    i64::try_from(i128::from(a) * i128::from(b) / i128::from(c)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_exact_and_positive() {
        let mut r = Rng::new(7);
        for (total, n) in [
            (4785, 1330),
            (24, 12),
            (102_046_800, 2344),
            (150, 15),
            (7, 7),
        ] {
            let p = split_total(&mut r, total, n);
            assert_eq!(p.iter().sum::<i64>(), total);
            assert!(p.iter().all(|v| *v >= 1), "{total}/{n}");
        }
    }

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }
}
