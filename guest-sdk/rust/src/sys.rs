//! The link to the host: the `wactor` imports on wasm32, a replaceable fake
//! on other targets (see [`crate::testing`]).

/// The host functions of ABI v1 that take an argument envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    Tell,
    Ask,
    StateGet,
    StateSet,
    StateDelete,
    SelfRef,
    Log,
    Deactivate,
    TimerSet,
    TimerCancel,
    ReminderSet,
    ReminderCancel,
    Watch,
    Unwatch,
    Publish,
    Subscribe,
    Unsubscribe,
    Forward,
}

/// Statuses of a host call (docs/ABI.md section 4.1).
pub(crate) const STATUS_OK: u32 = 0;
pub(crate) const STATUS_NOT_FOUND: u32 = 1;
pub(crate) const STATUS_ERROR: u32 = 2;

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::Func;

    #[link(wasm_import_module = "wactor")]
    extern "C" {
        fn tell(ptr: i32, len: i32) -> i64;
        fn ask(ptr: i32, len: i32) -> i64;
        fn state_get(ptr: i32, len: i32) -> i64;
        fn state_set(ptr: i32, len: i32) -> i64;
        fn state_delete(ptr: i32, len: i32) -> i64;
        #[link_name = "self"]
        fn self_ref(ptr: i32, len: i32) -> i64;
        fn log(ptr: i32, len: i32) -> i64;
        fn deactivate(ptr: i32, len: i32) -> i64;
        fn timer_set(ptr: i32, len: i32) -> i64;
        fn timer_cancel(ptr: i32, len: i32) -> i64;
        fn reminder_set(ptr: i32, len: i32) -> i64;
        fn reminder_cancel(ptr: i32, len: i32) -> i64;
        fn watch(ptr: i32, len: i32) -> i64;
        fn unwatch(ptr: i32, len: i32) -> i64;
        fn publish(ptr: i32, len: i32) -> i64;
        fn subscribe(ptr: i32, len: i32) -> i64;
        fn unsubscribe(ptr: i32, len: i32) -> i64;
        fn forward(ptr: i32, len: i32) -> i64;
        fn result(ptr: i32, len: i32) -> i32;
    }

    /// Calls `f` with the argument `arg` and fetches its pending result.
    pub(crate) fn call(f: Func, arg: &[u8]) -> (u32, Vec<u8>) {
        let (p, n) = if arg.is_empty() { (0, 0) } else { (arg.as_ptr() as i32, arg.len() as i32) };
        // SAFETY: the host reads [p, p+n), which is `arg`, during the call.
        let r = unsafe {
            match f {
                Func::Tell => tell(p, n),
                Func::Ask => ask(p, n),
                Func::StateGet => state_get(p, n),
                Func::StateSet => state_set(p, n),
                Func::StateDelete => state_delete(p, n),
                Func::SelfRef => self_ref(p, n),
                Func::Log => log(p, n),
                Func::Deactivate => deactivate(p, n),
                Func::TimerSet => timer_set(p, n),
                Func::TimerCancel => timer_cancel(p, n),
                Func::ReminderSet => reminder_set(p, n),
                Func::ReminderCancel => reminder_cancel(p, n),
                Func::Watch => watch(p, n),
                Func::Unwatch => unwatch(p, n),
                Func::Publish => publish(p, n),
                Func::Subscribe => subscribe(p, n),
                Func::Unsubscribe => unsubscribe(p, n),
                Func::Forward => forward(p, n),
            }
        } as u64;
        let status = (r >> 32) as u32;
        let len = r as u32 as usize;
        let mut out = Vec::new();
        if len > 0 {
            out.reserve_exact(len);
            // SAFETY: `out` has room for `len` bytes; the host writes at most
            // that many and says how many it wrote.
            unsafe {
                let got = result(out.as_mut_ptr() as i32, len as i32) as u32 as usize;
                out.set_len(if got < len { got } else { len });
            }
        }
        (status, out)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::Func;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A host in the same process: takes a function and its argument
    /// envelope, returns the status and the result bytes.
    pub(crate) type Host = Rc<dyn Fn(Func, &[u8]) -> (u32, Vec<u8>)>;

    thread_local! {
        static HOST: RefCell<Option<Host>> = RefCell::new(None);
    }

    /// Installs `h` (or none) and returns the one it replaces.
    pub(crate) fn set_host(h: Option<Host>) -> Option<Host> {
        HOST.with(|c| c.replace(h))
    }

    pub(crate) fn call(f: Func, arg: &[u8]) -> (u32, Vec<u8>) {
        // Clone the host out so that it may install another one (a test
        // actor asking another test actor) while it runs.
        let h = HOST.with(|c| c.borrow().clone());
        match h {
            Some(h) => h(f, arg),
            None => {
                let mut e = Vec::new();
                crate::envelope::put_error(
                    &mut e,
                    crate::error::codes::UNAVAILABLE,
                    "wactor: no host: outside wasm32, run actors with wactor::testing::TestActor",
                );
                (super::STATUS_ERROR, e)
            }
        }
    }
}

pub(crate) use imp::*;
