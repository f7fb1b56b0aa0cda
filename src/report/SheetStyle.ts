/** The contact sheet's stylesheet: dark, dense, each clip in its own aspect. */
export const SHEET_STYLE = `
:root { color-scheme: dark; font-family: system-ui, sans-serif; background: #15171a; color: #e6e6e6; --clip-height: 42vh; }
body { margin: 0; padding: 1rem 1.5rem 3rem; }
header.summary { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: baseline; border-bottom: 1px solid #333; padding-bottom: .75rem; }
header.summary h1 { font-size: 1.5rem; margin: 0 1rem 0 0; }
header.summary .kind { color: #8b949e; font-size: .95rem; }
.stat b { font-size: 1.2rem; }
.stat.failed b { color: #ff7b72; } .stat.completed b { color: #7ee787; } .stat.skipped b { color: #d2a8ff; }
.aborted { width: 100%; color: #ff7b72; margin: 0; }
.picks-bar { width: 100%; display: flex; gap: 1rem; align-items: center; }
.keys { color: #8b949e; font-size: .8rem; margin: 0; } .keys kbd { font: .75rem ui-monospace, monospace; border: 1px solid #484f58; border-radius: 3px; padding: 0 .25rem; }
button { font: inherit; font-size: .85rem; color: #e6e6e6; background: #21262d; border: 1px solid #484f58; border-radius: 4px; padding: .15rem .6rem; cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
button[aria-pressed="true"] { background: #1f6feb; border-color: #388bfd; }
.shot { margin-top: 1.5rem; padding: .5rem; border-radius: 8px; border: 1px solid transparent; }
.shot.current { border-color: #30363d; background: #181b1f; }
.shot-head { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline; margin-bottom: .5rem; }
.shot h2 { font-size: 1.1rem; margin: 0; } .shot h2 small { color: #8b949e; font-weight: normal; }
.shot-head .prompt { flex-basis: 100%; white-space: pre-wrap; margin: .2rem 0; max-width: 80em; }
.shot-params { color: #8b949e; font-size: .85rem; margin: 0; }
.shot-control { display: flex; gap: .5rem; align-items: center; flex-basis: 100%; }
.shot-control .seek { flex: 0 1 24rem; }
.shot-control .time { font: .8rem ui-monospace, monospace; color: #8b949e; min-width: 9em; }
.shot-control label { font-size: .85rem; color: #8b949e; }
.grid-scroll { overflow-x: auto; }
.sweep-grid { border-collapse: separate; border-spacing: .5rem; margin: 0 -.5rem; }
.sweep-grid caption { text-align: left; font: 600 .85rem ui-monospace, monospace; color: #d2a8ff; padding: 0 .5rem; }
.sweep-grid th { font: 600 .8rem ui-monospace, monospace; color: #79c0ff; text-align: left; white-space: nowrap; }
.sweep-grid th.row-head { vertical-align: middle; padding-right: .25rem; white-space: normal; max-width: 8rem; }
.sweep-grid td { vertical-align: top; padding: 0; }
.sweep-grid td.empty { color: #484f58; font-size: .8rem; text-align: center; vertical-align: middle; }
.card { width: min(16rem, calc(var(--clip-height) * var(--aspect))); min-width: 12rem; background: #1f2328; border: 1px solid #30363d; border-left: 4px solid #7ee787; border-radius: 6px; padding: .5rem; box-sizing: border-box; }
.card[data-status="failed"] { border-left-color: #ff7b72; } .card[data-status="skipped"] { border-left-color: #d2a8ff; } .card[data-status="running"] { border-left-color: #e3b341; }
.card.focused { outline: 2px solid #388bfd; outline-offset: 2px; }
.card.picked { box-shadow: 0 0 0 3px #e3b341; }
.media { display: flex; justify-content: center; background: #0d1117; border-radius: 4px; }
.media video, .media .placeholder { width: min(100%, calc(var(--clip-height) * var(--aspect))); aspect-ratio: var(--aspect); background: #000; border-radius: 4px; object-fit: contain; }
.media video { display: block; }
.placeholder { display: flex; align-items: center; justify-content: center; color: #8b949e; border: 1px dashed #484f58; background: #0d1117; }
.card-bar { display: flex; gap: .4rem; margin: .4rem 0 .2rem; }
.card-bar .pick { margin-left: auto; }
.differs { font: 600 .85rem ui-monospace, monospace; color: #79c0ff; margin: .2rem 0; }
.stills { display: flex; gap: .4rem; margin: .3rem 0; }
.stills figure { margin: 0; flex: 0 1 45%; } .stills img { width: 100%; border-radius: 3px; display: block; }
.stills figcaption { font-size: .7rem; color: #8b949e; }
.card .prompt { white-space: pre-wrap; margin: .3rem 0; font-size: .85rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .6rem; margin: 0; font-size: .8rem; }
dt { color: #8b949e; } dd { margin: 0; word-break: break-all; }
dd a { color: #79c0ff; display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
dd { min-width: 0; }
.job-id { font: .7rem ui-monospace, monospace; color: #8b949e; margin: .3rem 0 0; word-break: break-all; }
.error { color: #ff7b72; margin: .4rem 0 0; font-size: .85rem; white-space: pre-wrap; }
`
