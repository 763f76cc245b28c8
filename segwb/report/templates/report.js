// The report table: sort (missing values last, ties by image then class), filter, pages; a row opens its overlay.
// The same rules as segwb.report.table, which the dashboard uses.
const DATA = JSON.parse(document.getElementById('rows').textContent);
const TABLES = JSON.parse(document.getElementById('tables').textContent);
const PAGE = 25;
let state = {mode: 'basic', sort: {basic: [TABLES.basic.sort_key, TABLES.basic.descending ? -1 : 1],
             advanced: [TABLES.advanced.sort_key, TABLES.advanced.descending ? -1 : 1]}, page: 0, max: null, text: ''};
const esc = s => String(s).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
const missing = v => v === null || v === undefined || (typeof v === 'number' && isNaN(v));
const fmt = (v, col) => missing(v) ? 'N/A' : (typeof v === 'number' && !Number.isInteger(v) && col.numeric ? v.toFixed(col.digits) : String(v));
const tie = (a, b) => a.image < b.image ? -1 : a.image > b.image ? 1 : (a.class_id ?? -1) - (b.class_id ?? -1);
function rows() {
  const [key, dir] = state.sort[state.mode];
  const valueKey = TABLES[state.mode].sort_key;
  const r = DATA[state.mode].filter(x => (!state.text || x.image.toLowerCase().includes(state.text))
        && (state.max === null || (!missing(x[valueKey]) && x[valueKey] <= state.max)));
  return r.sort((a, b) => {
    const x = a[key], y = b[key];
    if (missing(x) || missing(y)) return missing(x) && missing(y) ? tie(a, b) : (missing(x) ? 1 : -1);
    if (x === y) return tie(a, b);
    return (x < y ? -1 : 1) * dir;
  });
}
function render() {
  const all = rows(), pages = Math.max(1, Math.ceil(all.length / PAGE));
  state.page = Math.min(state.page, pages - 1);
  const [key, dir] = state.sort[state.mode];
  const cols = TABLES[state.mode].columns;
  const head = cols.map(c => `<th class="sortable" data-key="${esc(c.key)}">${esc(c.title)}${c.key === key ? (dir > 0 ? ' ▲' : ' ▼') : ''}</th>`).join('');
  const body = all.slice(state.page * PAGE, (state.page + 1) * PAGE).map(x =>
    `<tr data-image="${esc(encodeURIComponent(x.image))}">` + cols.map(c =>
      `<td class="${c.numeric ? 'num' : ''}">${esc(fmt(x[c.key], c))}</td>`).join('') + '</tr>').join('');
  document.getElementById('table').innerHTML = `<thead><tr>${head}</tr></thead><tbody>${body}</tbody>`;
  document.getElementById('pageinfo').textContent = `page ${state.page + 1} of ${pages} (${all.length} rows)`;
  document.querySelectorAll('th.sortable').forEach(th => th.onclick = () => {
    const cur = state.sort[state.mode];
    state.sort[state.mode] = [th.dataset.key, cur[0] === th.dataset.key ? -cur[1] : 1]; render(); });
  document.querySelectorAll('#table tbody tr').forEach(tr => tr.onclick = () => show(decodeURIComponent(tr.dataset.image)));
}
function show(image) {
  const row = DATA.basic.find(x => x.image === image);
  document.querySelectorAll('#table tbody tr').forEach(tr => tr.classList.toggle('sel', decodeURIComponent(tr.dataset.image) === image));
  const facts = TABLES.basic.columns.slice(1).map(c => `${esc(c.title)}: ${esc(fmt(row[c.key], c))}`).join('; ');
  document.getElementById('viewer').innerHTML = `<h3>${esc(image)}</h3><p class="note">${facts}</p>` +
    `<img alt="overlay of ${esc(image)}" src="${esc(row.overlay)}">`;
}
document.querySelectorAll('input[name=mode]').forEach(r => r.onchange = () => { state.mode = r.value; state.page = 0; render(); });
document.getElementById('max').oninput = e => { state.max = e.target.value === '' ? null : parseFloat(e.target.value); state.page = 0; render(); };
document.getElementById('text').oninput = e => { state.text = e.target.value.toLowerCase(); state.page = 0; render(); };
document.getElementById('prev').onclick = () => { state.page = Math.max(0, state.page - 1); render(); };
document.getElementById('next').onclick = () => { state.page += 1; render(); };
render(); if (DATA.basic.length) show(rows()[0].image);
