// The report table: sort (missing values last, ties by image then class), filter, pages; a row opens its overlay.
// The same rules as segwb.report.table, which the dashboard uses.
// Every value comes from report.json (file and class names a user chose): it reaches the page as text only
// (textContent, attributes set through the DOM), never as markup.
const DATA = JSON.parse(document.getElementById('rows').textContent);
const TABLES = JSON.parse(document.getElementById('tables').textContent);
const PAGE = 25;
let state = {mode: 'basic', sort: {basic: [TABLES.basic.sort_key, TABLES.basic.descending ? -1 : 1],
             advanced: [TABLES.advanced.sort_key, TABLES.advanced.descending ? -1 : 1]}, page: 0, max: null, text: ''};
const missing = v => v === null || v === undefined || (typeof v === 'number' && isNaN(v));
const fmt = (v, col) => missing(v) ? 'N/A' : (typeof v === 'number' && !Number.isInteger(v) && col.numeric ? v.toFixed(col.digits) : String(v));
const tie = (a, b) => a.image < b.image ? -1 : a.image > b.image ? 1 : (a.class_id ?? -1) - (b.class_id ?? -1);
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}
function rows() {
  const [key, dir] = state.sort[state.mode];
  const valueKey = TABLES[state.mode].sort_key;
  const r = DATA[state.mode].filter(x => (!state.text || String(x.image).toLowerCase().includes(state.text))
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
  const head = el('tr');
  for (const c of cols) {
    const th = el('th', c.title + (c.key === key ? (dir > 0 ? ' ▲' : ' ▼') : ''), 'sortable');
    th.dataset.key = c.key;
    th.onclick = () => { const cur = state.sort[state.mode]; state.sort[state.mode] = [c.key, cur[0] === c.key ? -cur[1] : 1]; render(); };
    head.appendChild(th);
  }
  const body = el('tbody');
  for (const x of all.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
    const tr = el('tr');
    tr.dataset.image = x.image;
    for (const c of cols) tr.appendChild(el('td', fmt(x[c.key], c), c.numeric ? 'num' : ''));
    tr.onclick = () => show(x.image);
    body.appendChild(tr);
  }
  const thead = el('thead');
  thead.appendChild(head);
  document.getElementById('table').replaceChildren(thead, body);
  document.getElementById('pageinfo').textContent = `page ${state.page + 1} of ${pages} (${all.length} rows)`;
}
function show(image) {
  const row = DATA.basic.find(x => x.image === image);
  document.querySelectorAll('#table tbody tr').forEach(tr => tr.classList.toggle('sel', tr.dataset.image === image));
  if (!row) return;
  const facts = TABLES.basic.columns.slice(1).map(c => `${c.title}: ${fmt(row[c.key], c)}`).join('; ');
  const parts = [el('h3', image), el('p', facts, 'note')];
  // segwb.report.html.overlay_src left only relative paths inside the project; each part is a file name, not URL syntax.
  if (typeof row.overlay === 'string' && row.overlay) {
    const img = el('img');
    img.alt = `overlay of ${image}`;
    img.src = row.overlay.split('/').map(encodeURIComponent).join('/');
    parts.push(img);
  } else {
    parts.push(el('p', 'No overlay picture for this image: the report draws them for the 100 worst images; ' +
                      'the dashboard\u2019s Visualize tab shows any image.', 'note'));
  }
  document.getElementById('viewer').replaceChildren(...parts);
}
document.querySelectorAll('input[name=mode]').forEach(r => r.onchange = () => { state.mode = r.value; state.page = 0; render(); });
document.getElementById('max').oninput = e => { state.max = e.target.value === '' ? null : parseFloat(e.target.value); state.page = 0; render(); };
document.getElementById('text').oninput = e => { state.text = e.target.value.toLowerCase(); state.page = 0; render(); };
document.getElementById('prev').onclick = () => { state.page = Math.max(0, state.page - 1); render(); };
document.getElementById('next').onclick = () => { state.page += 1; render(); };
render(); if (DATA.basic.length) show(rows()[0].image);
