/** The part of Lambda's invocation context the handlers use (the runtime passes more). */
export interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName?: string;
  getRemainingTimeInMillis(): number;
}
