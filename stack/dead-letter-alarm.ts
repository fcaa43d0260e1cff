/**
 * An alarm on the upload dead-letter queue: any message there (ApproximateNumberOfMessagesVisible
 * > 0) is a photo that kept failing unexpectedly or a message that could not be read, and someone
 * should look. The alarm notifies an SNS topic; `alarmEmail` subscribes an address to it (the
 * address confirms by mail first). Ordinary outcomes (refused, gone, superseded) never land there.
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
    this.alarm = new CloudwatchMetricAlarm(this, 'alarm', {
      alarmName: `${props.name}-dead-letters`,
      alarmDescription: `Messages in ${props.queueName}: uploads that kept failing or could not be read. Read them (their reason is a message attribute when the function put them there) and redrive or delete.`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: props.queueName },
      statistic: 'Maximum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      // No data (an idle queue reports none for a while) is not a problem.
      treatMissingData: 'notBreaching',
      alarmActions: [this.topic.arn],
      okActions: [this.topic.arn],
    });
    if (props.email) this.subscription = new SnsTopicSubscription(this, 'email', { topicArn: this.topic.arn, protocol: 'email', endpoint: props.email });
  }
}
