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
        let scale = |v: f64| if top > 0.0 { v / top * plot_h } else { 0.0 };
        let bars = points
            .iter()
            .enumerate()
            .map(|(i, (label, value))| {
                let height = scale(value.max(0.0));
                Bar {
                    label: label.clone(),
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

    fn centre(&self, bar: &Bar) -> f64 {
        round(bar.x + bar.width / 2.0)
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
    }
}
