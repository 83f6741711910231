import type { ConfusionAnswer } from "../../api/metrics";
import type { DataRowFilter } from "../../lib/filters";
import { rowShares, toCsv } from "../../lib/metricsView";
import { save } from "./Chart";

const name = (label: string | null) => label ?? "None";

/** A confusion matrix: ground truth in rows, predictions in columns, each cell shaded by its
 *  share of its row and opening its rows (`onOpen` with the filter the API gives). */
export function ConfusionMatrix({ matrix, onOpen, csvName = "confusion-matrix" }: { matrix: ConfusionAnswer; onOpen: (filter: DataRowFilter) => void; csvName?: string }) {
  const shares = rowShares(matrix.counts);
  const cells = new Map(matrix.cells.map((c) => [`${c.groundTruth}\u0000${c.prediction}`, c]));
  const csv = () => {
    const rows = matrix.cells.map((c) => ({ ground_truth: name(c.groundTruth), prediction: name(c.prediction), count: c.count, data_rows: c.dataRows }));
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
                  const cell = cells.get(`${gt}\u0000${pred}`);
                  const n = matrix.counts[i][j];
                  return (
                    <td
                      key={name(pred)}
                      data-testid="confusion-cell"
                      data-gt={name(gt)}
                      data-pred={name(pred)}
                      data-rows={cell?.dataRows ?? 0}
                      className={cell ? "clickable" : ""}
                      style={{ background: `rgba(91, 157, 255, ${(0.08 + 0.8 * shares[i][j]).toFixed(3)})` }}
                      title={cell ? `${n} objects on ${cell.dataRows} data rows` : undefined}
                      onClick={cell ? () => onOpen(cell.filter) : undefined}
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
