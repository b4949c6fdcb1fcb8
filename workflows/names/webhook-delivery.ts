// The webhook delivery capability's Temporal names: workflow type and id. Workflow-safe (definitions and types
// only): the workflow imports it, and so do the API and services that start or signal it.

export const WEBHOOK_DELIVERY_WORKFLOW = 'webhookDeliveryWorkflow';

export const webhookDeliveryWorkflowId = (deliveryUid: string) => `webhook-delivery-${deliveryUid}`;
