import type { ConfusionAnswer } from "../../api/metrics";
import { type DataRowFilter, withClause } from "../../lib/filters";
import { rowShares, toCsv } from "../../lib/metricsView";
import { save } from "./Chart";

const name = (label: string | null) => label ?? "None";

/** A confusion matrix: ground truth in rows, predictions in columns, each cell shaded by its
 *  share of its row and opening its rows (`onOpen` with the matrix's filter and the cell). */
export function ConfusionMatrix({ matrix, selection, onOpen, csvName = "confusion-matrix" }: { matrix: ConfusionAnswer; selection: DataRowFilter | null; onOpen: (filter: DataRowFilter) => void; csvName?: string }) {
  const shares = rowShares(matrix.counts);
  const csv = () => {
    const rows = matrix.labels.flatMap((gt, i) =>
      matrix.labels.flatMap((pred, j) =>
        matrix.counts[i][j] > 0 || matrix.dataRows[i][j] > 0
          ? [{ ground_truth: name(gt), prediction: name(pred), count: matrix.counts[i][j], data_rows: matrix.dataRows[i][j] }]
          : [],
      ),
    );
    save(new Blob([toCsv(rows, ["ground_truth", "prediction", "count", "data_rows"])], { type: "text/csv" }), `${csvName}.csv`);
  };
  return (
    <figure className="chart">
      <div className="matrix-scroll">
        <table className="confusion" data-testid="confusion-matrix">
          <thead>
            <tr>
              <th className="corner">truth ↓ / predicted →</th>
              {matrix.labels.map((l) => <th key={name(l)}>{name(l)}</th>)}
            </tr>
          </thead>
          <tbody>
            {matrix.labels.map((gt, i) => (
              <tr key={name(gt)}>
                <th>{name(gt)}</th>
                {matrix.labels.map((pred, j) => {
                  const n = matrix.counts[i][j];
                  const rows = matrix.dataRows[i][j];
                  const open = n > 0 || rows > 0;
                  return (
                    <td
                      key={name(pred)}
                      data-testid="confusion-cell"
                      data-gt={name(gt)}
                      data-pred={name(pred)}
                      data-rows={rows}
                      className={open ? "clickable" : ""}
                      style={{ background: `rgba(91, 157, 255, ${(0.08 + 0.8 * shares[i][j]).toFixed(3)})` }}
                      title={open ? `${n} objects on ${rows} data rows` : undefined}
                      onClick={open ? () => onOpen(withClause(selection, { confusionCell: { groundTruth: gt, prediction: pred } })) : undefined}
                    >
                      {n}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <figcaption className="chart-downloads">
        <button className="link small" onClick={csv}>CSV</button>
      </figcaption>
    </figure>
  );
}
