//! Bar charts drawn on the server as SVG, no chart script: bars to scale
//! with their labels, guide lines with values, named axes, and the same
//! figures as a table for screen readers. The SVG scales to its box, so it
//! reads on a phone as on a desktop. Colours are presentation attributes
//! (the strict CSP allows no inline styles).

use askama::Template;

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 170.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 40.0;

#[derive(Template)]
#[template(path = "web/_bar_chart.html")]
pub struct BarChart {
    /// Names the chart in the page (`data-chart`, element ids).
    pub key: &'static str,
    pub title: String,
    /// What the bars stand for, and what their height measures.
    pub x_name: String,
    pub y_name: String,
    pub bars: Vec<Bar>,
    /// Guide lines, bottom up.
    pub ticks: Vec<Tick>,
}

pub struct Bar {
    pub label: String,
    /// Whether its label is written under it (with many bars, every few).
    pub shown: bool,
    /// The value as people read it.
    pub value: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

pub struct Tick {
    pub y: f64,
    pub label: String,
}

/// Where a chart's frame lies in the SVG (both charts share it): the
/// templates place guides, labels and axis names with these.
trait Frame {
    fn plot_left(&self) -> f64 {
        LEFT
    }

    fn plot_right(&self) -> f64 {
        WIDTH - RIGHT
    }

    fn base(&self) -> f64 {
        HEIGHT - BOTTOM
    }

    fn label_y(&self) -> f64 {
        HEIGHT - BOTTOM + 12.0
    }

    fn axis_y(&self) -> f64 {
        HEIGHT - 4.0
    }

    /// The plot's vertical middle in the y-axis name's rotated frame.
    fn rotated_middle(&self) -> f64 {
        -(TOP + (HEIGHT - TOP - BOTTOM) / 2.0)
    }
}

impl Frame for BarChart {}
impl Frame for LineChart {}

/// One decimal place is enough for a picture.
fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl BarChart {
    /// `points` (label, value) drawn to the scale of the largest; `format`
    /// writes a value as people read it, on the axis and in the table.
    pub fn new(
        key: &'static str,
        title: impl Into<String>,
        (x_name, y_name): (&str, &str),
        points: &[(String, f64)],
        format: impl Fn(f64) -> String,
    ) -> Self {
        let top = points.iter().map(|p| p.1).fold(0.0, f64::max);
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let slot = plot_w / points.len().max(1) as f64;
        // About seven labels fit under the axis on a phone.
        let every = points.len().div_ceil(7).max(1);
        let scale = |v: f64| if top > 0.0 { v / top * plot_h } else { 0.0 };
        let bars = points
            .iter()
            .enumerate()
            .map(|(i, (label, value))| {
                let height = scale(value.max(0.0));
                Bar {
                    label: label.clone(),
                    shown: i % every == 0,
                    value: format(*value),
                    x: round(LEFT + slot * i as f64 + slot * 0.15),
                    y: round(TOP + plot_h - height),
                    width: round(slot * 0.7),
                    height: round(height),
                }
            })
            .collect();
        let ticks = match top > 0.0 {
            true => [0.0, 0.5, 1.0]
                .iter()
                .map(|share| Tick {
                    y: round(TOP + plot_h - plot_h * share),
                    label: format(top * share),
                })
                .collect(),
            false => vec![Tick {
                y: TOP + plot_h,
                label: format(0.0),
            }],
        };
        Self {
            key,
            title: title.into(),
            x_name: x_name.into(),
            y_name: y_name.into(),
            bars,
            ticks,
        }
    }

    fn centre(&self, bar: &Bar) -> f64 {
        round(bar.x + bar.width / 2.0)
    }
}

/// A share over time drawn as a line (an audience retention curve): x from
/// 0 to `x_max` (seconds), y from 0 to 100 (%), with guide lines, named
/// axes, and the points as a table for screen readers.
#[derive(Template)]
#[template(path = "web/_line_chart.html")]
pub struct LineChart {
    pub key: String,
    pub title: String,
    pub x_name: String,
    pub y_name: String,
    /// `x,y x,y ...` in the SVG's frame.
    pub polyline: String,
    /// Guide lines across (y) and marks along the bottom (x).
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<XTick>,
    /// `(x as people read it, y as people read it)` for the table.
    pub rows: Vec<(String, String)>,
}

pub struct XTick {
    pub x: f64,
    pub label: String,
}

impl LineChart {
    /// `points` `(x, share 0-100)`, x in `0..=x_max`; `x_format` writes an
    /// x as people read it. The table lists every point.
    pub fn new(
        key: impl Into<String>,
        title: impl Into<String>,
        (x_name, y_name): (&str, &str),
        points: &[(f64, f64)],
        x_max: f64,
        x_format: impl Fn(f64) -> String,
    ) -> Self {
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let x_max = if x_max > 0.0 { x_max } else { 1.0 };
        let sx = |x: f64| round(LEFT + plot_w * (x / x_max).clamp(0.0, 1.0));
        let sy = |y: f64| round(TOP + plot_h - plot_h * (y / 100.0).clamp(0.0, 1.0));
        let polyline = points
            .iter()
            .map(|(x, y)| format!("{},{}", sx(*x), sy(*y)))
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            key: key.into(),
            title: title.into(),
            x_name: x_name.into(),
            y_name: y_name.into(),
            polyline,
            y_ticks: [0.0, 50.0, 100.0]
                .iter()
                .map(|y| Tick {
                    y: sy(*y),
                    label: format!("{y:.0}%"),
                })
                .collect(),
            x_ticks: [0.0, 0.25, 0.5, 0.75, 1.0]
                .iter()
                .map(|share| XTick {
                    x: sx(x_max * share),
                    label: x_format(x_max * share),
                })
                .collect(),
            rows: points
                .iter()
                .map(|(x, y)| (x_format(*x), format!("{y:.0}%")))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_drawn_to_the_scale_of_the_largest() {
        let points = vec![
            ("a".to_string(), 0.0),
            ("b".into(), 50.0),
            ("c".into(), 100.0),
        ];
        let chart = BarChart::new("t", "제목", ("x", "y"), &points, |v| format!("{v}"));
        let plot_h = HEIGHT - TOP - BOTTOM;
        assert_eq!(chart.bars[0].height, 0.0);
        assert_eq!(chart.bars[2].height, round(plot_h));
        assert_eq!(chart.bars[1].height, round(plot_h / 2.0));
        // Bars stand on the base line, left to right, inside the plot.
        for bar in &chart.bars {
            assert_eq!(round(bar.y + bar.height), round(HEIGHT - BOTTOM));
            assert!(bar.x >= LEFT && bar.x + bar.width <= WIDTH - RIGHT);
        }
        assert!(chart.bars[0].x < chart.bars[1].x);
        let labels: Vec<&str> = chart.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "50", "100"]);
        // Nothing to show: flat bars and one guide at zero, no division by zero.
        let empty = BarChart::new("t", "제목", ("x", "y"), &points[..1], |v| format!("{v}"));
        assert_eq!(empty.bars[0].height, 0.0);
        assert_eq!(empty.ticks.len(), 1);
        // Thirty days: every bar drawn, a label under every fifth.
        let month: Vec<(String, f64)> = (1..=30).map(|d| (format!("{d}"), 1.0)).collect();
        let chart = BarChart::new("t", "제목", ("x", "y"), &month, |v| format!("{v}"));
        assert_eq!(chart.bars.len(), 30);
        let shown: Vec<&str> = chart
            .bars
            .iter()
            .filter(|b| b.shown)
            .map(|b| b.label.as_str())
            .collect();
        assert_eq!(shown, ["1", "6", "11", "16", "21", "26"]);
    }

    #[test]
    fn a_line_is_drawn_inside_the_plot_with_its_points_in_a_table() {
        let chart = LineChart::new(
            "r",
            "유지율",
            ("x", "y"),
            &[(0.0, 100.0), (30.0, 50.0), (60.0, 0.0)],
            60.0,
            |x| format!("{x}s"),
        );
        assert_eq!(
            chart.polyline,
            format!(
                "{LEFT},{TOP} {},{} {},{}",
                round(LEFT + (WIDTH - LEFT - RIGHT) / 2.0),
                round(TOP + (HEIGHT - TOP - BOTTOM) / 2.0),
                WIDTH - RIGHT,
                HEIGHT - BOTTOM
            )
        );
        assert_eq!(chart.rows[1], ("30s".to_string(), "50%".to_string()));
        assert_eq!(chart.x_ticks.len(), 5);
    }
}
