//! Frame times, for the responsiveness target: with `SLUICE_FRAME_LOG=1` the window prints the
//! p50, p99 and worst frame of every ten seconds with frames to stderr: the time building the UI,
//! and the whole frame as eframe measures it (layout, tessellation and painting).

use std::time::{Duration, Instant};

pub struct FrameStats {
    enabled: bool,
    frames: Vec<Duration>,
    whole_frames: Vec<Duration>,
    window_started: Instant,
}

impl Default for FrameStats {
    fn default() -> Self {
        Self {
            enabled: std::env::var_os("SLUICE_FRAME_LOG").is_some_and(|value| value != "0"),
            frames: Vec::new(),
            whole_frames: Vec::new(),
            window_started: Instant::now(),
        }
    }
}

impl FrameStats {
    /// Records this frame's UI time and eframe's measure of the whole previous frame.
    pub fn record(&mut self, ui: Duration, previous_whole_frame: Option<f32>) {
        if !self.enabled {
            return;
        }
        self.frames.push(ui);
        if let Some(seconds) = previous_whole_frame {
            self.whole_frames.push(Duration::from_secs_f32(seconds.max(0.0)));
        }
        if self.window_started.elapsed() >= Duration::from_secs(10) {
            let count = self.frames.len();
            for (what, frames) in [("ui", &mut self.frames), ("whole frame", &mut self.whole_frames)] {
                if let Some((p50, p99, worst)) = percentiles(frames) {
                    eprintln!(
                        "frames ({what}): {count} in 10 s, p50 {:.2} ms, p99 {:.2} ms, worst {:.2} ms",
                        p50.as_secs_f64() * 1e3,
                        p99.as_secs_f64() * 1e3,
                        worst.as_secs_f64() * 1e3
                    );
                }
                frames.clear();
            }
            self.window_started = Instant::now();
        }
    }
}

/// (p50, p99, max) of the durations, sorting them in place.
fn percentiles(frames: &mut [Duration]) -> Option<(Duration, Duration, Duration)> {
    if frames.is_empty() {
        return None;
    }
    frames.sort_unstable();
    let at = |fraction: f64| frames[((frames.len() - 1) as f64 * fraction).round() as usize];
    Some((at(0.5), at(0.99), frames[frames.len() - 1]))
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn percentiles_of_a_hundred_frames() {
        let mut frames: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let (p50, p99, worst) = percentiles(&mut frames).unwrap();
        assert_eq!(p50, Duration::from_millis(51));
        assert_eq!(p99, Duration::from_millis(99));
        assert_eq!(worst, Duration::from_millis(100));
    }
}
