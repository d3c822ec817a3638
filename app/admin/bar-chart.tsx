/**
 * A small bar chart drawn on the server as SVG: no script, no style attribute (the CSP allows neither),
 * colours from the theme through classes. The SVG is an image with a title and a description; the
 * numbers themselves are also in a table beside it (./metrics-panel.tsx).
 */
export function BarChart({
  id,
  title,
  summary,
  values,
  labels,
}: {
  id: string;
  title: string;
  /** What the chart shows, in words (its text alternative). */
  summary: string;
  values: number[];
  /** One per bar, for the tooltip. */
  labels: string[];
}) {
  const width = 240;
  const height = 60;
  const gap = values.length > 12 ? 1 : 3;
  const max = Math.max(1, ...values);
  const barWidth = (width - gap * (values.length - 1)) / values.length;
  return (
    <figure className="space-y-1">
      <figcaption className="text-sm font-medium" aria-hidden="true">
        {title}
      </figcaption>
      <svg
        viewBox={`0 0 ${width} ${height + 1}`}
        preserveAspectRatio="none"
        className="text-foreground h-16 w-full"
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        <line x1="0" y1={height + 0.5} x2={width} y2={height + 0.5} className="stroke-border" strokeWidth="1" />
        {values.map((value, i) => {
          const h = value === 0 ? 0 : Math.max(2, (value / max) * height);
          return (
            <rect key={i} x={i * (barWidth + gap)} y={height - h} width={barWidth} height={h} className="fill-current" rx="1">
              <title>{`${labels[i]}: ${value}`}</title>
            </rect>
          );
        })}
      </svg>
    </figure>
  );
}
