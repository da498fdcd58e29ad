//! The allocator: mimalloc for Rust's allocations (SQLite keeps the C library's), wrapped so
//! that running out of memory ends with a Chinese line instead of Rust's English "memory
//! allocation of N bytes failed" and an abort.

use std::alloc::{GlobalAlloc, Layout};
use std::io::Write;

/// An import hands millions of small strings from thread to thread (reader → importer →
/// SQLite's thread), and glibc's malloc spent a sixth of the import's CPU on them.
pub struct Allocator;

// SAFETY: every call is passed unchanged to mimalloc, which upholds `GlobalAlloc`'s contract;
// the wrapper only looks at a null result, which it never returns.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory(new_size);
        }
        p
    }
}

/// Says so in Chinese and ends the process. Nothing here allocates: the text is static, the
/// size is written into a buffer on the stack, stderr is unbuffered. No transaction was
/// committed, so the database is as it was (SQLite rolls the journal back on next open).
#[cold]
#[inline(never)]
fn out_of_memory(size: usize) -> ! {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = size;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all("错误：内存不足（再申请 ".as_bytes());
    let _ = err.write_all(&digits[i..]);
    let _ = err.write_all(
        " 字节未成功），操作已停止。正在进行的导入或修改没有提交，数据库保持原样。请关闭其他程序后重试，或把文件拆成几个小文件分别导入。\n".as_bytes(),
    );
    let _ = err.flush();
    // Not `std::process::exit`: its exit handlers and destructors may allocate, and crash.
    // SAFETY: `_exit` ends the process at once; nothing of ours runs after it.
    unsafe { libc::_exit(3) }
}
