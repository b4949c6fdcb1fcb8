// The settlement capability's Temporal names: workflow types. Workflow-safe (definitions only):
// the API starts the runs by these names.

export const SETTLEMENT_WORKFLOW = 'settlementWorkflow';
export const BANK_DETAILS_NOTICE_WORKFLOW = 'bankDetailsNoticeWorkflow';
