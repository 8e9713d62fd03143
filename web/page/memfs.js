// An in-memory file system with the callback API of Node's `fs` that Go's js/wasm `os` package
// calls (syscall/fs_js.go). The verifier reads the fetched bundle from files; in the browser those
// files live here, in this worker's memory, and vanish with it. Loaded before wasm_exec.js, which
// keeps a `globalThis.fs` that is already defined.
"use strict";
(() => {
  const S_IFDIR = 0o040000, S_IFREG = 0o100000;
  const C = { O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024, O_DIRECTORY: 65536 };
  const nodes = new Map([["/", { dir: true, mtime: Date.now() }]]);
  const fds = new Map();
  let nextFd = 100, ino = 1;
  const err = (code) => { const e = new Error(code); e.code = code; return e; };
  const norm = (p) => {
    const out = [];
    for (const s of String(p).split("/")) {
      if (s === "" || s === ".") continue;
      if (s === "..") out.pop(); else out.push(s);
    }
    return "/" + out.join("/");
  };
  const parent = (p) => p === "/" ? "/" : norm(p + "/..");
  const stat = (n) => ({
    dev: 1, ino: n.ino || (n.ino = ino++), mode: (n.dir ? S_IFDIR | 0o755 : S_IFREG | 0o644), nlink: 1,
    uid: 0, gid: 0, rdev: 0, size: n.dir ? 0 : n.len, blksize: 4096, blocks: 0,
    atimeMs: n.mtime, mtimeMs: n.mtime, ctimeMs: n.mtime, isDirectory: () => !!n.dir,
  });
  const grow = (n, need) => {
    if (need <= n.data.length) return;
    const b = new Uint8Array(Math.max(need, n.data.length * 2, 1024));
    b.set(n.data.subarray(0, n.len));
    n.data = b;
  };
  const dec = new TextDecoder();
  let outBuf = "";
  const console_write = (buf) => {
    outBuf += dec.decode(buf);
    const nl = outBuf.lastIndexOf("\n");
    if (nl !== -1) { console.log(outBuf.substring(0, nl)); outBuf = outBuf.substring(nl + 1); }
    return buf.length;
  };
  const fs = {
    constants: C,
    writeSync(fd, buf) {
      if (fd === 1 || fd === 2) return console_write(buf);
      throw err("EBADF");
    },
    write(fd, buf, off, len, pos, cb) {
      if (fd === 1 || fd === 2) { cb(null, console_write(buf.subarray(off, off + len))); return; }
      const f = fds.get(fd);
      if (!f) { cb(err("EBADF")); return; }
      const n = f.node;
      let at = pos === null || pos === undefined ? f.pos : pos;
      if (f.append) at = n.len;
      grow(n, at + len);
      n.data.set(buf.subarray(off, off + len), at);
      n.len = Math.max(n.len, at + len);
      n.mtime = Date.now();
      if (pos === null || pos === undefined) f.pos = at + len;
      cb(null, len);
    },
    read(fd, buf, off, len, pos, cb) {
      const f = fds.get(fd);
      if (!f || f.node.dir) { cb(err(f ? "EISDIR" : "EBADF")); return; }
      const at = pos === null || pos === undefined ? f.pos : pos;
      const n = Math.max(0, Math.min(len, f.node.len - at));
      buf.set(f.node.data.subarray(at, at + n), off);
      if (pos === null || pos === undefined) f.pos = at + n;
      cb(null, n);
    },
    open(path, flags, mode, cb) {
      const p = norm(path);
      let n = nodes.get(p);
      if (n && (flags & C.O_CREAT) && (flags & C.O_EXCL)) { cb(err("EEXIST")); return; }
      if (!n) {
        if (!(flags & C.O_CREAT)) { cb(err("ENOENT")); return; }
        const d = nodes.get(parent(p));
        if (!d || !d.dir) { cb(err("ENOENT")); return; }
        n = { dir: false, data: new Uint8Array(0), len: 0, mtime: Date.now() };
        nodes.set(p, n);
      }
      if (n.dir && (flags & 3) !== 0) { cb(err("EISDIR")); return; }
      if (flags & C.O_TRUNC) { n.data = new Uint8Array(0); n.len = 0; }
      const fd = nextFd++;
      fds.set(fd, { node: n, pos: 0, append: !!(flags & C.O_APPEND) });
      cb(null, fd);
    },
    close(fd, cb) { fds.delete(fd); cb(null); },
    fstat(fd, cb) { const f = fds.get(fd); if (!f) cb(err("EBADF")); else cb(null, stat(f.node)); },
    stat(path, cb) { const n = nodes.get(norm(path)); if (!n) cb(err("ENOENT")); else cb(null, stat(n)); },
    lstat(path, cb) { fs.stat(path, cb); },
    mkdir(path, perm, cb) {
      const p = norm(path);
      if (nodes.has(p)) { cb(err("EEXIST")); return; }
      const d = nodes.get(parent(p));
      if (!d || !d.dir) { cb(err("ENOENT")); return; }
      nodes.set(p, { dir: true, mtime: Date.now() });
      cb(null);
    },
    readdir(path, cb) {
      const p = norm(path);
      const n = nodes.get(p);
      if (!n || !n.dir) { cb(err(n ? "ENOTDIR" : "ENOENT")); return; }
      const pre = p === "/" ? "/" : p + "/";
      const out = [];
      for (const k of nodes.keys()) if (k !== p && k.startsWith(pre) && !k.substring(pre.length).includes("/")) out.push(k.substring(pre.length));
      cb(null, out);
    },
    unlink(path, cb) {
      const p = norm(path), n = nodes.get(p);
      if (!n) { cb(err("ENOENT")); return; }
      if (n.dir) { cb(err("EISDIR")); return; }
      nodes.delete(p); cb(null);
    },
    rmdir(path, cb) {
      const p = norm(path), n = nodes.get(p);
      if (!n) { cb(err("ENOENT")); return; }
      for (const k of nodes.keys()) if (k.startsWith(p + "/")) { cb(err("ENOTEMPTY")); return; }
      nodes.delete(p); cb(null);
    },
    fsync(fd, cb) { cb(null); },
  };
  for (const name of ["chmod", "chown", "fchmod", "fchown", "lchown", "link", "readlink", "rename", "symlink", "truncate", "ftruncate", "utimes"]) {
    fs[name] = (...args) => args[args.length - 1](err("ENOSYS"));
  }
  globalThis.fs = fs;
})();
