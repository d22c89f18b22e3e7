#!/usr/bin/env python3
"""A stand-in for ssh in test-remote-ssh (given as ?command=): records its
argv and pid, then acts as $VD_FAKE_SSH_MODE says:
  ok      listens on the -L local socket and answers every request with
          {"remote": REMOTE_SOCKET} (a tunnel to a daemon)
  deny    says ssh's "Permission denied (publickey)." and exits 255
  refuse  accepts and closes every connection, saying what ssh says when
          sshd cannot open the remote socket
  hang    waits forever (a login that never ends)"""
import json
import os
import socket
import sys
import time

out = os.environ['VD_FAKE_SSH_RECORD']
with open(out, 'w') as f:
    json.dump({'argv': sys.argv[1:], 'pid': os.getpid()}, f)
mode = os.environ.get('VD_FAKE_SSH_MODE', 'ok')
local, remote = sys.argv[sys.argv.index('-L') + 1].split(':', 1)
if mode == 'deny':
    sys.stderr.write('root@h: Permission denied (publickey).\n')
    sys.exit(255)
if mode == 'hang':
    while True:
        time.sleep(1)
s = socket.socket(socket.AF_UNIX)
s.bind(local)
s.listen(4)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    if mode == 'refuse':
        c.close()
        sys.stderr.write('channel %d: open failed: connect failed: open failed\n' % (n + 1))
        sys.stderr.flush()
        continue
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    body = json.dumps({'remote': remote}).encode()
    c.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n'
              b'Connection: close\r\n\r\n' % len(body) + body)
    c.close()
