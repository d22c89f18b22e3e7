// Storage: pools (create a directory pool, start, stop, delete) and a
// pool's volumes (create, delete, upload a file such as an ISO with a
// progress bar: PUT .../volumes/NAME/data).
import { h, clear, run, fmtBytes, toast } from '../ui.js';
import { api, enc, session } from '../api.js';

// A bar for "used of total" (bytes).
export function usageBar(used, total) {
  const pct = total > 0 ? Math.min(100, (100 * used) / total) : 0;
  return h('div', { class: 'usage', title: `${pct.toFixed(1)} %` },
    h('div', { class: 'bar' }, h('div', { class: 'bar-fill', style: `width:${pct.toFixed(1)}%` })),
    h('span', { class: 'muted' }, `${fmtBytes(used)} of ${fmtBytes(total)}`));
}

const xmlEscape = (s) => String(s).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

// PUT the file as the volume's data, reporting progress (fetch() has no
// upload progress: XMLHttpRequest does).
function uploadData(pool, vol, file, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PUT', `/api/v1/pools/${enc(pool)}/volumes/${enc(vol)}/data`);
    x.setRequestHeader('X-CSRF-Token', session.csrf || '');
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress((100 * e.loaded) / e.total); };
    x.onload = () => {
      let j = null;
      try { j = JSON.parse(x.responseText); } catch { /* not JSON */ }
      if (x.status >= 200 && x.status < 300) resolve(j);
      else reject(new Error(j && j.error ? j.error.message : `${x.status} ${x.statusText}`));
    };
    x.onerror = () => reject(new Error('the upload was cut (network error)'));
    x.send(file);
  });
}

export function storagePage(selected) {
  let current = selected || null;
  const pools = h('tbody');
  const vols = h('tbody');
  const volHead = h('h2', {}, 'Volumes');
  const volCard = h('section', { class: 'card', id: 'volumes', hidden: true });

  // New pool: a directory pool, built and started.
  const pName = h('input', { id: 'pool-name', placeholder: 'name', required: true });
  const pPath = h('input', { id: 'pool-path', placeholder: '/srv/images', required: true, class: 'wide' });
  const poolForm = h('form', { class: 'inline-form', id: 'pool-form', onsubmit: async (e) => {
    e.preventDefault();
    const xml = `<pool type='dir'><name>${xmlEscape(pName.value)}</name><target><path>${xmlEscape(pPath.value)}</path></target></pool>`;
    const ok = await run(`Create pool ${pName.value}`, async () => {
      await api('POST', '/pools', xml);
      await api('POST', `/pools/${enc(pName.value)}/build`);
      await api('POST', `/pools/${enc(pName.value)}/start`);
      return true;
    });
    if (ok) { current = pName.value; pName.value = pPath.value = ''; load(); }
  } }, h('strong', {}, 'New directory pool'), pName, pPath, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create'));

  // New volume, and upload.
  const vName = h('input', { id: 'vol-name', placeholder: 'name', required: true });
  const vSize = h('input', { id: 'vol-size', type: 'number', min: '0', step: 'any', value: '1', class: 'num' });
  const vFormat = h('select', { id: 'vol-format' }, h('option', { value: 'qcow2' }, 'qcow2'), h('option', { value: 'raw' }, 'raw'));
  const volForm = h('form', { class: 'inline-form', onsubmit: async (e) => {
    e.preventDefault();
    const ok = await run(`Create volume ${vName.value}`, () => api('POST', `/pools/${enc(current)}/volumes`,
      { name: vName.value, capacity: Math.round(Number(vSize.value) * 2 ** 30), format: vFormat.value }));
    if (ok) { vName.value = ''; loadVolumes(); }
  } }, h('strong', {}, 'New volume'), vName, vSize, 'GiB', vFormat, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create'));
  const uFile = h('input', { id: 'upload-file', type: 'file', required: true });
  const uName = h('input', { id: 'upload-name', placeholder: 'name (default: the file\'s)' });
  const uBar = h('progress', { id: 'upload-progress', max: '100', value: '0', hidden: true });
  const uText = h('span', { id: 'upload-text', class: 'muted' });
  const upForm = h('form', { class: 'inline-form', id: 'upload-form', onsubmit: async (e) => {
    e.preventDefault();
    const file = uFile.files[0];
    if (!file) return;
    const name = uName.value || file.name;
    const pool = current;
    uBar.hidden = false; uBar.value = 0; uText.textContent = '0 %';
    const ok = await run(`Upload ${name}`, async () => {
      await api('POST', `/pools/${enc(pool)}/volumes`, { name, capacity: file.size, format: 'raw' });
      try {
        await uploadData(pool, name, file, (pct) => { uBar.value = pct; uText.textContent = `${Math.floor(pct)} %`; });
      } catch (err) {
        // The empty volume would stay: remove it (its error is the upload's).
        await api('DELETE', `/pools/${enc(pool)}/volumes/${enc(name)}`).catch(() => {});
        throw err;
      }
      return true;
    });
    if (ok) {
      uBar.value = 100; uText.textContent = `100 %: ${name} uploaded (${fmtBytes(file.size)})`;
      toast(`Uploaded ${name}.`);
      uFile.value = ''; uName.value = '';
    } else uText.textContent = 'failed';
    loadVolumes();
  } }, h('strong', {}, 'Upload'), uFile, uName, h('button', { class: 'btn btn-primary', type: 'submit' }, 'Upload'), uBar, uText);
  volCard.append(volHead, volForm, upForm, h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, ['Name', 'Format', 'Capacity', 'Allocation', 'Path', ''].map((t) => h('th', {}, t)))), vols));

  const el = h('div', { class: 'page-storage' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Storage')),
    h('section', { class: 'card' }, poolForm, h('table', { class: 'table', id: 'pools' },
      h('thead', {}, h('tr', {}, ['Name', 'State', 'Type', 'Target', 'Usage', 'Autostart', ''].map((t) => h('th', {}, t)))), pools)),
    volCard);

  async function act(what, fn) { await run(what, fn); load(); }

  async function load() {
    const p = await run('Storage pools', () => api('GET', '/pools?all=1'));
    if (!p) return;
    clear(pools);
    if (current && !p.pools.some((x) => x.name === current)) current = null;
    for (const x of p.pools) {
      const on = x.state === 'running';
      const auto = h('input', { type: 'checkbox', checked: !!x.autostart, disabled: !x.persistent, 'aria-label': `Autostart ${x.name}`,
        onchange: () => act(`Autostart ${x.name}`, () => api('PUT', `/pools/${enc(x.name)}/autostart`, { autostart: auto.checked })) });
      pools.append(h('tr', { dataset: { name: x.name }, class: x.name === current ? 'selected' : null },
        h('td', {}, h('a', { href: '#/storage', onclick: (e) => { e.preventDefault(); current = x.name; load(); } }, x.name)),
        h('td', {}, x.state), h('td', {}, x.type), h('td', {}, x.target || '—'),
        h('td', {}, on ? usageBar(x.allocation, x.capacity) : '—'), h('td', {}, auto),
        h('td', { class: 'actions' },
          on ? h('button', { class: 'btn btn-secondary', dataset: { action: 'stop' }, onclick: () => act(`Stop ${x.name}`, () => api('POST', `/pools/${enc(x.name)}/destroy`)) }, 'Stop')
            : h('button', { class: 'btn btn-secondary', dataset: { action: 'start' }, onclick: () => act(`Start ${x.name}`, () => api('POST', `/pools/${enc(x.name)}/start`)) }, 'Start'),
          h('button', { class: 'btn btn-danger', dataset: { action: 'delete' }, disabled: on, title: on ? 'Stop the pool first' : null,
            onclick: () => { if (confirm(`Delete the pool ${x.name}? Its files stay.`)) act(`Delete ${x.name}`, () => api('DELETE', `/pools/${enc(x.name)}`)); } }, 'Delete'))));
    }
    if (!p.pools.length) pools.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No pools.')));
    loadVolumes(p.pools.find((x) => x.name === current));
  }

  async function loadVolumes(pool) {
    if (!current) { volCard.hidden = true; return; }
    volCard.hidden = false;
    volHead.textContent = `Volumes of ${current}`;
    if (pool && pool.state !== 'running') { clear(vols).append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Start the pool to see its volumes.'))); return; }
    const v = await run(`Volumes of ${current}`, () => api('GET', `/pools/${enc(current)}/volumes`));
    if (!v) return;
    clear(vols);
    for (const x of v.volumes) {
      vols.append(h('tr', { dataset: { name: x.name } }, h('td', {}, x.name), h('td', {}, x.format || x.type),
        h('td', {}, fmtBytes(x.capacity)), h('td', {}, fmtBytes(x.allocation)), h('td', { class: 'muted' }, x.path),
        h('td', { class: 'actions' }, x.operation ? h('span', { class: 'muted' }, `${x.operation.kind} ${x.operation.progress} %`) : null,
          h('button', { class: 'btn btn-danger', dataset: { action: 'delete' }, onclick: async () => {
            if (!confirm(`Delete the volume ${x.name} and its data?`)) return;
            await run(`Delete ${x.name}`, () => api('DELETE', `/pools/${enc(current)}/volumes/${enc(x.name)}`));
            load();
          } }, 'Delete'))));
    }
    if (!v.volumes.length) vols.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No volumes.')));
  }
  load();
  return { el };
}
