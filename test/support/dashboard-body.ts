/**
 * A synthesized dashboard's body, read back: CloudFormation's `Fn::Join` rendered with each token written as
 * `Ref:<id>` or `GetAtt:<id>.<attribute>` (what it refers to), then parsed; and the metrics its widgets chart.
 */
import type { Template } from 'aws-cdk-lib/assertions';

export interface DashboardWidget {
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: {
    readonly title?: string;
    readonly metrics?: unknown[][];
    readonly query?: string;
    readonly annotations?: { horizontal?: { value: number; label: string }[] };
  };
}

/** A metric a widget charts: namespace, name, dimensions. */
export interface ChartedMetric {
  readonly widget: string;
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Record<string, string>;
}

const tokenText = (part: unknown): string => {
  const token = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (token.Ref !== undefined) return `Ref:${token.Ref}`;
  if (token['Fn::GetAtt'] !== undefined) return `GetAtt:${token['Fn::GetAtt'].join('.')}`;
  return 'TOKEN';
};

/** The widgets of the template's one dashboard. */
export function dashboardWidgets(template: Template): DashboardWidget[] {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  if (dashboards.length !== 1) throw new Error(`expected one dashboard, found ${dashboards.length}`);
  const body = (dashboards[0] as { Properties: { DashboardBody: unknown } }).Properties.DashboardBody;
  const text =
    typeof body === 'string'
      ? body
      : (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
          .map((part) => (typeof part === 'string' ? part : tokenText(part)))
          .join('');
  return (JSON.parse(text) as { widgets: DashboardWidget[] }).widgets;
}

/** Every metric the widgets chart (a math expression's metrics included; the expressions themselves not). */
export function chartedMetrics(widgets: readonly DashboardWidget[]): ChartedMetric[] {
  return widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).flatMap((entry) => {
      const parts = entry.filter((p): p is string => typeof p === 'string');
      if (parts.length < 2) return [];
      const [namespace, name, ...pairs] = parts;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
      return [{ widget: widget.properties.title ?? '', namespace: namespace!, name: name!, dimensions }];
    }),
  );
}
