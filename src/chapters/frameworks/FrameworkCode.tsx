import { DUTIES, SNIPPETS } from './snippets';

/** The MLP block and one training step in four frameworks, then what each framework does for you. */
export function FrameworkCode() {
  return (
    <>
      <div className="code-grid">
        {SNIPPETS.map((s) => (
          <figure className="code-figure" key={s.id} data-framework={s.id}>
            <figcaption>
              <strong>{s.framework}</strong> <span className="muted">({s.language})</span>
            </figcaption>
            <pre className="code-block" tabIndex={0} aria-label={`${s.framework} code`}>
              <code>{s.code}</code>
            </pre>
          </figure>
        ))}
      </div>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="What each framework does for you">
        <table className="data-table duties">
          <caption>What each framework does for you.</caption>
          <thead>
            <tr>
              <th scope="col">Duty</th>
              {SNIPPETS.map((s) => (
                <th scope="col" key={s.id}>
                  {s.framework}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {DUTIES.map((d) => (
              <tr key={d.duty}>
                <th scope="row">{d.duty}</th>
                {SNIPPETS.map((s) => (
                  <td key={s.id}>{d.cells[s.id]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
