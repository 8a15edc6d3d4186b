//! A small deterministic random generator (xorshift64*): the Learn tab's order of cells, and the
//! examples' random draws of cells and batches, repeat exactly for the same seed.

/// xorshift64* (Vigna 2016). Not for anything that must be unpredictable.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0, which xorshift cannot leave, is taken as 1).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// In `0..n` (`n` ≥ 1; 0 gives 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Fisher–Yates, in place.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }

    /// An index drawn with probability proportional to `weights`; `None` when they sum to
    /// nothing.
    pub fn pick(&mut self, weights: &[f64]) -> Option<usize> {
        let total: f64 = weights.iter().sum();
        if total.is_nan() || total <= 0.0 {
            return None;
        }
        let mut r = self.next_f64() * total;
        for (k, w) in weights.iter().enumerate() {
            if r < *w {
                return Some(k);
            }
            r -= w;
        }
        weights.iter().rposition(|w| *w > 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_draws_and_a_shuffle_is_a_permutation() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        assert_eq!((0..5).map(|_| a.next_u64()).collect::<Vec<_>>(), (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        let mut v: Vec<usize> = (0..50).collect();
        Rng::new(3).shuffle(&mut v);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        v.sort();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
        let mut r = Rng::new(9);
        assert!((0..1000).all(|_| r.below(7) < 7 && (0.0..1.0).contains(&r.next_f64())));
        assert_eq!(r.pick(&[0.0, 0.0]), None);
        assert_eq!(r.pick(&[0.0, 2.0, 0.0]), Some(1));
    }
}
