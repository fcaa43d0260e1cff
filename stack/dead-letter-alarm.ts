/**
 * An alarm on the upload dead-letter queue: any message there (ApproximateNumberOfMessagesVisible
 * > 0) is a photo that kept failing unexpectedly or a message that could not be read, and someone
 * should look. The alarm notifies an SNS topic; `alarmEmail` subscribes an address to it (the
 * address confirms by mail first). Ordinary outcomes (refused, gone, superseded) never land there.
 * Other alarms of the stack notify the same topic (`alsoOn`).
 */
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Construct } from 'constructs';

export interface DeadLetterAlarmProps {
  readonly name: string;
  /** The dead-letter queue's name (the metric's QueueName dimension). */
  readonly queueName: string;
  /** Subscribed to the alarm's topic by e-mail. @default none */
  readonly email?: string;
}

export class DeadLetterAlarm extends Construct {
  readonly topic: SnsTopic;
  readonly alarm: CloudwatchMetricAlarm;
  readonly subscription?: SnsTopicSubscription;

  constructor(scope: Construct, id: string, props: DeadLetterAlarmProps) {
    super(scope, id);
    // SNS-managed encryption would need the alarm's service to use the key; the messages hold only the alarm's state.
    this.topic = new SnsTopic(this, 'topic', { name: `${props.name}-alarm` });
    this.alarm = this.alsoOn('alarm', {
      alarmName: `${props.name}-dead-letters`,
      alarmDescription: `Messages in ${props.queueName}: uploads that kept failing or could not be read. Read them (their reason is a message attribute when the function put them there) and redrive or delete.`,
      ...queueNotEmpty(props.queueName),
    });
    if (props.email) this.subscription = new SnsTopicSubscription(this, 'email', { topicArn: this.topic.arn, protocol: 'email', endpoint: props.email });
  }

  /** Another alarm on this topic: the metric above 0 in a period (no data is no problem: an idle queue or function reports none). */
  alsoOn(id: string, alarm: WatchedMetric & { readonly alarmName: string; readonly alarmDescription: string }): CloudwatchMetricAlarm {
    return new CloudwatchMetricAlarm(this, id, {
      ...alarm,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: [this.topic.arn],
      okActions: [this.topic.arn],
    });
  }
}

/** A metric an alarm watches. */
export interface WatchedMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly statistic: 'Maximum' | 'Sum';
  readonly period: number;
}

/** Any message visible in the queue, over 5 minutes. */
export function queueNotEmpty(queueName: string): WatchedMetric {
  return { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: queueName }, statistic: 'Maximum', period: 300 };
}
