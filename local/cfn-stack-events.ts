/**
 * Stack and resource statuses, and the stack's event log, as DescribeStackEvents shows them
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html):
 *
 * - UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: the update succeeded; the old physical resources of replaced
 *   resources and the removed resources are being deleted.
 * - UPDATE_ROLLBACK_IN_PROGRESS: an update failed; the stack returns to its previous template.
 * - UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: "the stack has been rolled back to its previous
 *   working state and is usable, but CloudFormation is still deleting any new resources it created
 *   during the stack update."
 * - UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back every change; the stack can only be
 *   left with continue-update-rollback (optionally skipping resources)
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-continueupdaterollback.html).
 * - ROLLBACK_COMPLETE / ROLLBACK_FAILED: after a failed stack creation; the stack can then only be deleted.
 */

export type StackStatus =
  | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'ROLLBACK_IN_PROGRESS' | 'ROLLBACK_COMPLETE' | 'ROLLBACK_FAILED'
  | 'UPDATE_IN_PROGRESS' | 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS' | 'UPDATE_COMPLETE'
  | 'UPDATE_ROLLBACK_IN_PROGRESS' | 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' | 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_ROLLBACK_FAILED'
  | 'DELETE_IN_PROGRESS' | 'DELETE_COMPLETE' | 'DELETE_FAILED';

export type ResourceStatus =
  | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'CREATE_FAILED'
  | 'UPDATE_IN_PROGRESS' | 'UPDATE_COMPLETE' | 'UPDATE_FAILED'
  | 'DELETE_IN_PROGRESS' | 'DELETE_COMPLETE' | 'DELETE_FAILED' | 'DELETE_SKIPPED';

export interface StackEvent {
  /** The resource's logical id, or the stack's name for a stack status. */
  readonly logicalId: string;
  readonly resourceType: string;
  readonly status: ResourceStatus | StackStatus;
  readonly physicalId?: string;
  readonly reason?: string;
  /** The stack's status when the event happened (which phase of the deployment). */
  readonly stackStatus: StackStatus;
}

export class StackEventLog {
  public readonly events: StackEvent[] = [];
  private current: StackStatus | undefined;

  constructor(private readonly stackName: string) {}

  public get status(): StackStatus | undefined {
    return this.current;
  }

  public stack(status: StackStatus, reason?: string): void {
    this.current = status;
    this.events.push({ logicalId: this.stackName, resourceType: 'AWS::CloudFormation::Stack', status, stackStatus: status, ...(reason ? { reason } : {}) });
  }

  public resource(logicalId: string, resourceType: string, status: ResourceStatus, details: { physicalId?: string; reason?: string } = {}): void {
    this.events.push({
      logicalId,
      resourceType,
      status,
      stackStatus: this.current!,
      ...(details.physicalId === undefined ? {} : { physicalId: details.physicalId }),
      ...(details.reason === undefined ? {} : { reason: details.reason }),
    });
  }

  /** The events of one resource, in order. */
  public of(logicalId: string): StackEvent[] {
    return this.events.filter((event) => event.logicalId === logicalId);
  }
}
