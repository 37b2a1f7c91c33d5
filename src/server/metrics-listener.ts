import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';

/**
 * `GET /metrics` on a listener of its own (METRICS_PORT), so that it can stay off the network clients reach; it
 * answers nothing else (404). No token: keep the port private.
 */
export function createMetricsListener(metrics: Metrics, logger: Logger): Server {
  return createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at GET /metrics\n');
      return;
    }
    metrics.scrape().then(
      (body) => response.writeHead(200, { 'content-type': metrics.contentType }).end(body),
      (error) => {
        logger.error({ err: error }, 'could not collect the metrics');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('Could not collect the metrics\n');
      },
    );
  });
}
