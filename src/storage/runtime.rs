//! The runtime storage I/O runs on, and the bridge to it from synchronous code.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll, Wake, Waker};

/// Runs storage I/O from synchronous code: handlers' blocking threads, the CLI, and the
/// demo's start-up (which runs inside an async runtime, where tokio's own `block_on` would
/// panic). The future is polled on the calling thread inside the storage runtime's context,
/// whose workers drive the cloud clients' connections; a future that is ready at once (a
/// presigned URL) costs no thread switch.
pub fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fireshare-storage")
            .enable_all()
            .build()
            .expect("the storage runtime starts")
    });
    let _entered = RUNTIME.enter();
    let unpark = Arc::new(Unpark {
        thread: std::thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(unpark.clone());
    let mut context = Context::from_waker(&waker);
    // Out of tokio's cooperative budget: inside another runtime's task (the demo), an
    // exhausted budget would answer Pending forever, since this thread never yields to it.
    let mut future = std::pin::pin!(tokio::task::unconstrained(future));
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => {
                while !unpark.woken.swap(false, Ordering::Acquire) {
                    std::thread::park();
                }
            }
        }
    }
}

/// Wakes the thread; the flag keeps the wake even if code polled in between parks the thread
/// itself and takes the unpark.
struct Unpark {
    thread: std::thread::Thread,
    woken: AtomicBool,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}
