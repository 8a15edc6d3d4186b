//! Class activation maps (Zhou et al. 2016): which parts of the image drove a
//! class score, from the last feature map and the classifier's weights.

use serde::{Deserialize, Serialize};

/// What a class activation map needs: the classifier's weights over the
/// feature-map channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CamSpec {
    pub features_output: String,
    pub channels: usize,
    pub weights: Vec<Vec<f32>>,
    #[serde(default)]
    pub bias: Vec<f32>,
}

/// The model's last feature map before global pooling, `[channels, height, width]`.
#[derive(Debug, Clone)]
pub struct FeatureMap {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub data: Vec<f32>,
}

/// A coarse heat map, values in 0..=1, row-major `height × width`.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f32>,
}

/// CAM of class `class_index`: `relu(Σ_c w[k][c] · F[c])`, scaled so its maximum is 1.
pub fn class_activation(features: &FeatureMap, cam: &CamSpec, class_index: usize) -> Option<Heatmap> {
    let weights = cam.weights.get(class_index)?;
    if weights.len() != features.channels {
        return None;
    }
    let plane = features.width * features.height;
    let mut values = vec![0f32; plane];
    for (c, w) in weights.iter().enumerate() {
        let fc = &features.data[c * plane..(c + 1) * plane];
        for (v, f) in values.iter_mut().zip(fc) {
            *v += w * f;
        }
    }
    let max = values.iter().copied().fold(0f32, f32::max);
    for v in &mut values {
        *v = if max > 0.0 { v.max(0.0) / max } else { 0.0 };
    }
    Some(Heatmap { width: features.width, height: features.height, values })
}

impl Heatmap {
    /// Bilinear sample at normalised coordinates (0..1), pixel centres aligned.
    pub fn sample(&self, u: f32, v: f32) -> f32 {
        let x = (u * self.width as f32 - 0.5).clamp(0.0, (self.width - 1) as f32);
        let y = (v * self.height as f32 - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let at = |x: usize, y: usize| self.values[y * self.width + x];
        let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
        let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// Mean activation in the central square (middle half of each side) divided by the
    /// mean in the four corner squares (outer quarter of each side). Above 1 means the
    /// map looks at the centred cell rather than the corners.
    pub fn centre_to_corner_ratio(&self) -> f32 {
        let n = 64;
        let (mut centre, mut nc, mut corner, mut nk) = (0f32, 0, 0f32, 0);
        for j in 0..n {
            for i in 0..n {
                let (u, v) = ((i as f32 + 0.5) / n as f32, (j as f32 + 0.5) / n as f32);
                let s = self.sample(u, v);
                if (0.25..0.75).contains(&u) && (0.25..0.75).contains(&v) {
                    centre += s;
                    nc += 1;
                } else if !(0.25..0.75).contains(&u) && !(0.25..0.75).contains(&v) {
                    corner += s;
                    nk += 1;
                }
            }
        }
        (centre / nc as f32) / (corner / nk as f32 + 1e-6)
    }

    /// An RGBA overlay of `width × height` pixels: a perceptual colour ramp whose
    /// opacity follows the activation, so low activations leave the cell visible.
    pub fn to_rgba(&self, width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity((width * height * 4) as usize);
        for y in 0..height {
            for x in 0..width {
                let s = self.sample((x as f32 + 0.5) / width as f32, (y as f32 + 0.5) / height as f32);
                let [r, g, b] = ramp(s);
                out.extend_from_slice(&[r, g, b, (s.clamp(0.0, 1.0) * 170.0) as u8]);
            }
        }
        out
    }
}

/// A blue→cyan→yellow→red ramp.
fn ramp(t: f32) -> [u8; 3] {
    const STOPS: [(f32, [f32; 3]); 5] = [
        (0.0, [48.0, 18.0, 160.0]),
        (0.3, [30.0, 150.0, 220.0]),
        (0.55, [90.0, 210.0, 120.0]),
        (0.8, [250.0, 220.0, 40.0]),
        (1.0, [230.0, 40.0, 30.0]),
    ];
    let t = t.clamp(0.0, 1.0);
    for w in STOPS.windows(2) {
        let ((t0, c0), (t1, c1)) = (w[0], w[1]);
        if t <= t1 {
            let f = (t - t0) / (t1 - t0);
            return std::array::from_fn(|i| (c0[i] + (c1[i] - c0[i]) * f) as u8);
        }
    }
    [230, 40, 30]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_sum_relu_and_normalise() {
        // two channels on a 2×2 map
        let f = FeatureMap { channels: 2, height: 2, width: 2, data: vec![1.0, 0.0, 0.0, 2.0, 0.0, 1.0, 1.0, 0.0] };
        let cam = CamSpec { features_output: "f".into(), channels: 2, weights: vec![vec![1.0, -1.0]], bias: vec![0.0] };
        let h = class_activation(&f, &cam, 0).unwrap();
        assert_eq!(h.values, vec![0.5, 0.0, 0.0, 1.0]);
        assert!(class_activation(&f, &cam, 1).is_none());
    }

    #[test]
    fn centre_ratio_tells_centre_from_corners() {
        let mut values = vec![0f32; 49];
        values[3 * 7 + 3] = 1.0;
        let centred = Heatmap { width: 7, height: 7, values };
        assert!(centred.centre_to_corner_ratio() > 5.0);
        let mut values = vec![0f32; 49];
        values[0] = 1.0;
        values[48] = 1.0;
        let cornered = Heatmap { width: 7, height: 7, values };
        assert!(cornered.centre_to_corner_ratio() < 0.2);
        assert_eq!(centred.to_rgba(10, 8).len(), 10 * 8 * 4);
    }
}
