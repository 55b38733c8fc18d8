//! Grading rules, pure: choice answers against the key, a sandbox run against
//! a test's expected output, a submission's verdict from its tests, and the
//! order choices are shown in for an attempt.

use serde::{Deserialize, Serialize};

use crate::assessments::sandbox::{Exit, Run};

crate::text_enum!(
    /// How a code submission (or one of its tests) came out.
    Verdict {
        Pending => "pending",
        Accepted => "accepted",
        WrongAnswer => "wrong_answer",
        TimeLimit => "time_limit",
        MemoryLimit => "memory_limit",
        RuntimeError => "runtime_error",
        CompileError => "compile_error",
        HiddenFailed => "hidden_failed",
    }
);

impl Verdict {
    pub fn is_pending(&self) -> bool {
        *self == Self::Pending
    }
}

/// One test's outcome, as stored and shown: a hidden test keeps no input or
/// output, so they never reach the browser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub visible: bool,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub got: Option<String>,
    /// A visible test that crashed: the error's last line, trimmed, and the
    /// line of the learner's file it points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// What a crash says, for the learner: the error (`TypeError: ...`, at most
/// 300 characters) and the line of `file` where it happened, if the trace
/// names one. Node writes `/work/main.js:3`, Python `File "/work/main.py",
/// line 3`.
pub fn crash(stderr: &str, file: &str) -> (Option<String>, Option<u32>) {
    let is_error = |l: &str| {
        let name = l.split([':', ' ']).next().unwrap_or_default();
        !name.is_empty()
            && (name.ends_with("Error") || name.ends_with("Exception"))
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    let error = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| is_error(l))
        .map(|l| l.chars().take(300).collect());
    let digits = |s: &str| -> Option<u32> {
        let n: String = s.chars().take_while(char::is_ascii_digit).collect();
        n.parse().ok()
    };
    let line = stderr.lines().find_map(|l| {
        if let Some(at) = l.find(&format!("{file}:")) {
            return digits(&l[at + file.len() + 1..]);
        }
        let at = l.find(&format!("{file}\", line "))?;
        digits(&l[at + file.len() + 8..])
    });
    (error, line)
}

/// The verdict of one run against `expected` (trailing whitespace of each
/// line and at the end does not count).
pub fn judge(run: &Run, expected: &str) -> Verdict {
    let stderr = run.stderr_text();
    match run.exit {
        Exit::WallTime => Verdict::TimeLimit,
        Exit::OutputLimit => Verdict::RuntimeError,
        Exit::Memory => Verdict::MemoryLimit,
        // SIGXCPU at the CPU limit, or its hard kill.
        Exit::Code(152) | Exit::Code(137) => Verdict::TimeLimit,
        _ if out_of_memory(&stderr) => Verdict::MemoryLimit,
        Exit::Code(0) if normalise(&run.stdout) == normalise(expected.as_bytes()) => {
            Verdict::Accepted
        }
        Exit::Code(0) => Verdict::WrongAnswer,
        Exit::Code(_) if stderr.contains("SyntaxError") => Verdict::CompileError,
        Exit::Code(_) => Verdict::RuntimeError,
    }
}

fn out_of_memory(stderr: &str) -> bool {
    [
        "MemoryError",
        "heap out of memory",
        "Fatal process out of memory",
        "Cannot allocate memory",
        "Array buffer allocation failed",
        "Invalid array length",
    ]
    .iter()
    .any(|s| stderr.contains(s))
}

fn normalise(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}

/// A submission's verdict and score (0-100) from its tests' verdicts: all
/// accepted is accepted; a program that does not parse is a compile error;
/// otherwise the first failing visible test's verdict, and when only hidden
/// tests failed, just that (how one failed would tell what it tests).
pub fn overall(results: &[TestResult]) -> (Verdict, i32) {
    if results.is_empty() {
        return (Verdict::RuntimeError, 0);
    }
    let passed = results
        .iter()
        .filter(|r| r.verdict == Verdict::Accepted)
        .count();
    let score = (passed * 100 / results.len()) as i32;
    let failed = |r: &&TestResult| r.verdict != Verdict::Accepted;
    let verdict = if results.iter().any(|r| r.verdict == Verdict::CompileError) {
        Verdict::CompileError
    } else if let Some(visible) = results.iter().filter(|r| r.visible).find(failed) {
        visible.verdict
    } else if results.iter().any(|r| failed(&r)) {
        Verdict::HiddenFailed
    } else {
        Verdict::Accepted
    };
    (verdict, score)
}

/// Points for a choice question: all of it when exactly the correct
/// choices were picked, nothing otherwise.
pub fn choice_points(picked: &[uuid::Uuid], correct: &[uuid::Uuid], points: i32) -> i32 {
    let mut a = picked.to_vec();
    let mut b = correct.to_vec();
    a.sort();
    a.dedup();
    b.sort();
    if !a.is_empty() && a == b { points } else { 0 }
}

/// The order `n` choices are shown in for an attempt (a permutation from
/// the attempt's seed and the question, so a reload shows the same order).
pub fn shuffled(n: usize, seed: i64, question: uuid::Uuid) -> Vec<usize> {
    use rand::{SeedableRng, seq::SliceRandom};
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..24].copy_from_slice(question.as_bytes());
    let mut rng = rand::rngs::StdRng::from_seed(key);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn run(exit: Exit, stdout: &str, stderr: &str) -> Run {
        Run {
            exit,
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            elapsed: Duration::from_millis(50),
        }
    }

    #[test]
    fn a_run_is_judged_by_its_exit_and_output() {
        assert_eq!(
            judge(&run(Exit::Code(0), "6  \n\n", ""), "6"),
            Verdict::Accepted
        );
        assert_eq!(
            judge(&run(Exit::Code(0), "7\n", ""), "6"),
            Verdict::WrongAnswer
        );
        assert_eq!(judge(&run(Exit::WallTime, "", ""), "6"), Verdict::TimeLimit);
        assert_eq!(
            judge(&run(Exit::Code(152), "", ""), "6"),
            Verdict::TimeLimit
        );
        assert_eq!(
            judge(&run(Exit::Code(1), "", "MemoryError"), "6"),
            Verdict::MemoryLimit
        );
        assert_eq!(
            judge(
                &run(
                    Exit::Code(1),
                    "",
                    "  File \"main.py\"\nSyntaxError: invalid syntax"
                ),
                "6"
            ),
            Verdict::CompileError
        );
        assert_eq!(
            judge(
                &run(Exit::Code(1), "", "TypeError: x is not a function"),
                "6"
            ),
            Verdict::RuntimeError
        );
        assert_eq!(
            judge(&run(Exit::OutputLimit, "xxxx", ""), "6"),
            Verdict::RuntimeError
        );
    }

    /// A test's result with nothing but its visibility and verdict.
    fn result(visible: bool, verdict: Verdict) -> TestResult {
        TestResult {
            visible,
            verdict,
            input: None,
            expected: None,
            got: None,
            error: None,
            line: None,
        }
    }

    #[test]
    fn the_first_failing_test_names_the_verdict_and_the_score_counts_passes() {
        let r = |verdict| result(true, verdict);
        assert_eq!(
            overall(&[r(Verdict::Accepted), r(Verdict::Accepted)]),
            (Verdict::Accepted, 100)
        );
        assert_eq!(
            overall(&[
                r(Verdict::Accepted),
                r(Verdict::TimeLimit),
                r(Verdict::WrongAnswer)
            ]),
            (Verdict::TimeLimit, 33)
        );
        assert_eq!(overall(&[]), (Verdict::RuntimeError, 0));
    }

    #[test]
    fn a_hidden_test_s_failure_does_not_say_how_it_failed() {
        let r = result;
        assert_eq!(
            overall(&[
                r(true, Verdict::Accepted),
                r(false, Verdict::TimeLimit),
                r(false, Verdict::Accepted)
            ]),
            (Verdict::HiddenFailed, 66)
        );
        // A visible failure is named, even after a hidden one.
        assert_eq!(
            overall(&[
                r(false, Verdict::MemoryLimit),
                r(true, Verdict::WrongAnswer)
            ]),
            (Verdict::WrongAnswer, 0)
        );
        assert_eq!(
            overall(&[r(false, Verdict::CompileError)]),
            (Verdict::CompileError, 0)
        );
    }

    #[test]
    fn choices_score_only_when_exactly_the_key_is_picked() {
        let (a, b, c) = (
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4(),
        );
        assert_eq!(choice_points(&[a], &[a], 1), 1);
        assert_eq!(choice_points(&[b, a], &[a, b], 2), 2);
        assert_eq!(choice_points(&[a], &[a, b], 2), 0);
        assert_eq!(choice_points(&[a, b, c], &[a, b], 2), 0);
        assert_eq!(choice_points(&[], &[], 1), 0);
    }

    #[test]
    fn an_attempt_shows_one_order_per_question_and_attempts_differ() {
        let q = uuid::Uuid::new_v4();
        let first = shuffled(5, 42, q);
        assert_eq!(first, shuffled(5, 42, q));
        let mut sorted = first.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
        let differs = (0..20).any(|seed| shuffled(5, seed, q) != first);
        assert!(differs);
    }

    #[test]
    fn a_crash_is_told_by_its_error_and_the_learners_line() {
        let node = "/work/main.js:3\n    return numbers.lenght.foo;\n                          ^\n\n\
                    TypeError: Cannot read properties of undefined (reading 'foo')\n    at sum (/work/main.js:3:27)\n";
        assert_eq!(
            crash(node, "main.js"),
            (
                Some("TypeError: Cannot read properties of undefined (reading 'foo')".into()),
                Some(3)
            )
        );
        let python = "Traceback (most recent call last):\n  File \"/work/main.py\", line 7, in <module>\n    total = sum(x)\nNameError: name 'x' is not defined\n";
        assert_eq!(
            crash(python, "main.py"),
            (Some("NameError: name 'x' is not defined".into()), Some(7))
        );
        let long = format!("RangeError: {}", "가".repeat(400));
        assert_eq!(crash(&long, "main.js").0.unwrap().chars().count(), 300);
        assert_eq!(crash("Killed", "main.js"), (None, None));
    }
}
