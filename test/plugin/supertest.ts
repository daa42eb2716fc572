import { createRequire } from 'node:module';
import type { Express } from 'express';

// @types/supertest is not a dependency: the calls these tests use, typed.

export interface TestResponse {
  status: number;
  headers: Record<string, string | undefined>;
  // Response bodies are whatever JSON the route sent; tests assert on their shape.
  body: any;
  text: string;
}

export interface TestRequest extends PromiseLike<TestResponse> {
  query(query: Record<string, unknown> | string): TestRequest;
  set(name: string, value: string): TestRequest;
  send(body?: unknown): TestRequest;
  attach(field: string, file: Buffer, options?: string | { filename?: string; contentType?: string }): TestRequest;
  field(name: string, value: string): TestRequest;
  expect(status: number, body?: string): TestRequest;
}

export interface TestAgent {
  get(url: string): TestRequest;
  post(url: string): TestRequest;
  put(url: string): TestRequest;
  delete(url: string): TestRequest;
  options(url: string): TestRequest;
}

export const request = createRequire(import.meta.url)('supertest') as (app: Express) => TestAgent;
