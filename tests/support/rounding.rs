//! Shared by `tests/rounding.rs` (native) and `tests/web.rs` (wasm in Chromium): the patched
//! `tract_data::round_ties_to_even` (vendor/README.md) against tract 0.23.9's own version. The
//! two builds use different code (`f32.nearest` on wasm, a branch-free form elsewhere), so both
//! are checked where they run.

/// tract-data 0.23.9, `datum.rs`, verbatim.
pub fn upstream(x: f32) -> f32 {
    const TOINT: f32 = 1.0f32 / f32::EPSILON;
    let u = x.to_bits();
    let e = (u >> 23) & 0xff;
    if e >= 0x7f + 23 {
        return x;
    }
    let s = u >> 31;
    let y = if s == 1 { x - TOINT + TOINT } else { x + TOINT - TOINT };
    if y == 0.0 {
        if s == 1 {
            -0f32
        } else {
            0f32
        }
    } else {
        y
    }
}

/// Compares `f` with [`upstream`] on 2^25 bit patterns spread over the whole f32 range (every
/// sign and exponent), every quarter-integer in [-300, 300] with its two neighbours (the ties),
/// and the special values. Returns the number of values checked and the first mismatches.
pub fn compare(f: impl Fn(f32) -> f32) -> (u64, Vec<String>) {
    let mut checked = 0u64;
    let mut mismatches = Vec::new();
    let mut check = |x: f32| {
        checked += 1;
        let (a, b) = (f(x), upstream(x));
        let same = a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        if !same && mismatches.len() < 10 {
            mismatches.push(format!("{x:e} ({:#010x}): patched {a:e}, upstream {b:e}", x.to_bits()));
        }
    };
    for u in (0..=u32::MAX).step_by(256) {
        check(f32::from_bits(u));
        check(f32::from_bits(u | 0xff));
    }
    for q in -1200..=1200 {
        let x = q as f32 / 4.0;
        check(x);
        check(f32::from_bits(x.to_bits() + 1));
        check(f32::from_bits(x.to_bits().wrapping_sub(1)));
    }
    let specials = [
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        -2.5,
        8388607.5,
        -8388607.5,
        8388608.0,
        -8388608.0,
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    for x in specials {
        check(x);
    }
    (checked, mismatches)
}
