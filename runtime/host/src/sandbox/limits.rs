//! The limits of one run and the monitor that enforces them.
//!
//! How the CPU limit holds even against `pcall`: Luau calls an interrupt at every function call,
//! loop back edge and step of its pattern matcher. Past the limit the interrupt sets a sticky
//! stop flag and then alternately yields the running coroutine (a yield cannot be caught by
//! `pcall`; the host sees the pending future, finds the flag and drops the script) and raises an
//! error (for code that cannot yield, such as a metamethod called from C). `pcall`, `xpcall` and
//! `coroutine.resume` are wrapped so that once the flag is set every protected call re-raises
//! the limit error. A memory error is made sticky the same way.
//!
//! What runs outside the VM, where no interrupt reaches (library functions written in Rust), is
//! bounded by its input instead: output by the output limit, conversions by the number of
//! values a state of this memory limit can hold, regex results by the memory limit. Nothing
//! needs a watchdog, and nothing ends the host's process.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use mlua::{MultiValue, VmState};

/// Bounds on one script run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes the script's Lua state may allocate beyond what the sandbox itself needs.
    pub memory: usize,
    /// Time the script itself may run: the time its Lua runs, and its calls' answers are turned
    /// into Lua values. Time spent waiting for calls (and their approval) does not count; the
    /// calls have timeouts of their own.
    pub cpu: Duration,
    /// Bytes of output (`print`, `dump`), line breaks included.
    pub output: usize,
}

impl Limits {
    /// 32 MB, as KosmoKrator's sandbox.
    pub const DEFAULT_MEMORY: usize = 32 * 1024 * 1024;
    /// 30 s, as KosmoKrator's sandbox.
    pub const DEFAULT_CPU: Duration = Duration::from_secs(30);
    /// The smallest memory limit the sandbox accepts: below it the globals alone do not fit.
    pub const MIN_MEMORY: usize = 64 * 1024;

    /// How many values a conversion to JSON may visit. A Lua value takes at least 16 bytes, so
    /// no table that fits in memory holds more distinct ones; more means a table shared many
    /// times over, whose expansion would be unbounded.
    pub(crate) fn max_json_values(&self) -> usize {
        (self.memory / 16).max(4096)
    }
}

impl Default for Limits {
    /// 32 MB of memory, 30 s of CPU, 32 MB of output.
    fn default() -> Self {
        Limits {
            memory: Self::DEFAULT_MEMORY,
            cpu: Self::DEFAULT_CPU,
            output: Self::DEFAULT_MEMORY,
        }
    }
}

/// Which limit ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitExceeded {
    /// The script ran longer than [`Limits::cpu`].
    Cpu,
    /// The script needed more than [`Limits::memory`].
    Memory,
    /// The script printed more than [`Limits::output`].
    Output,
}

const STOP_NONE: u8 = 0;
const STOP_CPU: u8 = 1;
const STOP_MEMORY: u8 = 2;
const STOP_OUTPUT: u8 = 3;

/// Interrupts between two clock readings.
const TICKS_PER_CHECK: u32 = 128;

/// Luau's message for a failed allocation.
pub(crate) const LUA_MEMORY_ERROR: &str = "not enough memory";

/// Receives each line of output as the script prints it.
pub type OutputSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Watches one run: time, the stop flag and the output.
pub(crate) struct Monitor {
    pub(crate) limits: Limits,
    clock: Mutex<RunClock>,
    stop: AtomicU8,
    ticks: AtomicU32,
    toggle: AtomicBool,
    output: Mutex<OutputBuffer>,
    sink: Option<OutputSink>,
}

/// The time the script's future has spent being polled: all Lua runs inside those polls, and
/// nothing else waits there (calls run as tasks of their own). Measured this way, a worker of
/// `parallel.map` that computes while another waits for its call is not mistaken for waiting.
#[derive(Default)]
struct RunClock {
    ran: Duration,
    since: Option<Instant>,
}

#[derive(Default)]
struct OutputBuffer {
    lines: Vec<String>,
    bytes: usize,
}

impl Monitor {
    pub(crate) fn new(limits: Limits, sink: Option<OutputSink>) -> Self {
        Monitor {
            limits,
            clock: Mutex::new(RunClock::default()),
            stop: AtomicU8::new(STOP_NONE),
            ticks: AtomicU32::new(1),
            toggle: AtomicBool::new(false),
            output: Mutex::new(OutputBuffer::default()),
            sink,
        }
    }

    /// Time the script itself has run so far.
    fn script_time(&self) -> Duration {
        self.clock
            .lock()
            .map(|c| c.ran + c.since.map_or(Duration::ZERO, |s| s.elapsed()))
            .unwrap_or_default()
    }

    /// The script's future is being polled: its Lua may run.
    fn enter(&self) {
        if let Ok(mut clock) = self.clock.lock() {
            clock.since = Some(Instant::now());
        }
    }

    /// The poll is over: the script waits.
    fn leave(&self) {
        if let Ok(mut clock) = self.clock.lock()
            && let Some(since) = clock.since.take()
        {
            clock.ran += since.elapsed();
        }
    }

    pub(crate) fn exceeded(&self) -> Option<LimitExceeded> {
        match self.stop.load(Ordering::Relaxed) {
            STOP_CPU => Some(LimitExceeded::Cpu),
            STOP_MEMORY => Some(LimitExceeded::Memory),
            STOP_OUTPUT => Some(LimitExceeded::Output),
            _ => None,
        }
    }

    pub(crate) fn set_stop(&self, reason: LimitExceeded) {
        let code = match reason {
            LimitExceeded::Cpu => STOP_CPU,
            LimitExceeded::Memory => STOP_MEMORY,
            LimitExceeded::Output => STOP_OUTPUT,
        };
        let _ = self
            .stop
            .compare_exchange(STOP_NONE, code, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub(crate) fn stop_message(&self) -> Option<String> {
        self.exceeded()
            .map(|limit| limit_message(limit, &self.limits))
    }

    /// Luau's interrupt: continue, or stop the script once past the CPU limit.
    pub(crate) fn interrupt(&self) -> mlua::Result<VmState> {
        if self.exceeded().is_none() {
            let ticks = self.ticks.fetch_add(1, Ordering::Relaxed);
            if !ticks.is_multiple_of(TICKS_PER_CHECK) || self.script_time() <= self.limits.cpu {
                return Ok(VmState::Continue);
            }
            self.set_stop(LimitExceeded::Cpu);
        }
        // Alternate: a yield ends the run when the code can yield; the error covers code that
        // cannot (the yield is then ignored and the next interrupt raises).
        if self.toggle.fetch_xor(true, Ordering::Relaxed) {
            Err(mlua::Error::runtime(
                self.stop_message().unwrap_or_default(),
            ))
        } else {
            Ok(VmState::Yield)
        }
    }

    /// Output bytes still allowed.
    pub(crate) fn output_left(&self) -> usize {
        self.output
            .lock()
            .map(|b| self.limits.output.saturating_sub(b.bytes))
            .unwrap_or(0)
    }

    /// Adds one line of output, or stops the run at the output limit.
    pub(crate) fn emit(&self, line: String) -> Result<(), String> {
        let Ok(mut buffer) = self.output.lock() else {
            return Err("output is unavailable".into());
        };
        let size = line.len() + 1;
        if buffer.bytes + size > self.limits.output {
            drop(buffer);
            return Err(self.output_exceeded());
        }
        buffer.bytes += size;
        if let Some(sink) = &self.sink {
            sink(&line);
        }
        buffer.lines.push(line);
        Ok(())
    }

    /// Stops the run for its output and says why.
    pub(crate) fn output_exceeded(&self) -> String {
        self.set_stop(LimitExceeded::Output);
        self.stop_message().unwrap_or_default()
    }

    pub(crate) fn output(&self) -> String {
        self.output
            .lock()
            .map(|b| b.lines.join("\n"))
            .unwrap_or_default()
    }
}

/// The message a script and its host see when `limit` ended it.
pub(crate) fn limit_message(limit: LimitExceeded, limits: &Limits) -> String {
    match limit {
        LimitExceeded::Cpu => format!(
            "CPU time limit exceeded: the script ran longer than {} s (raise it with --cpu-limit).",
            seconds(limits.cpu)
        ),
        LimitExceeded::Memory => format!(
            "Memory limit exceeded: the script needed more than {} bytes (raise it with --memory-limit).",
            limits.memory
        ),
        LimitExceeded::Output => format!(
            "Output limit exceeded: the script printed more than {} bytes.",
            limits.output
        ),
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}

/// The script's future, cut short as soon as a limit stopped it (the interrupt yields, so the
/// future is pending with the flag set).
pub(crate) struct Limited<F> {
    pub(crate) inner: F,
    pub(crate) monitor: Arc<Monitor>,
}

impl<F> Future for Limited<F>
where
    F: Future<Output = mlua::Result<MultiValue>> + Unpin,
{
    type Output = mlua::Result<MultiValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.monitor.enter();
        let polled = Pin::new(&mut self.inner).poll(cx);
        self.monitor.leave();
        match polled {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => match self.monitor.stop_message() {
                Some(message) => Poll::Ready(Err(mlua::Error::RuntimeError(message))),
                None => Poll::Pending,
            },
        }
    }
}
