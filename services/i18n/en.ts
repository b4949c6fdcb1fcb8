// English texts of the shopper's and billing parties' mails and PDFs. {name} is a placeholder;
// de.ts has the same keys and placeholders (test/unit/i18n-catalogues.test.ts checks).

export const en = {
  'voucherMail.subject': 'Your {scheme} ({amount})',
  'voucherMail.text': 'Thank you for your purchase.\n\nYour voucher for {amount} is attached as a PDF. Print it or show it on '
    + 'your phone at the till of any store in {acceptedAt}.\nIt ends in {last4} and is valid until {validUntil}.\n\nOrder {orderId}\n',
  'refundMail.subject': 'Your voucher order could not be completed - {amount} refunded',
  'refundMail.text': 'We are sorry: we could not issue your voucher. Your payment of {amount} has been refunded to your card; '
    + 'depending on your bank it shows within a few days.\n\nOrder {orderId}\n',
  'reminderMail.subject': 'Your voucher …{last4} expires on {day}',
  'reminderMail.text': 'Your gift voucher ending in {last4} still holds {amount} and expires on {day} '
    + '(in {days} days or less). Spend it in any store of the centre before then.\n\nNo more reminders: {unsubscribeUrl}\n',
  'statementMail.subject': '{scheme}: clearing statement {period} for {party}',
  'statementMail.text': 'Hello {party},\n\nyour clearing statement for {period} is attached.\n\n{positions}\n\n'
    + 'Every transaction behind it, as CSV (link valid for 90 days):\n{csvLink}\n\n'
    + 'The statement becomes final when the centre\'s finance team closes the period.',
  'statement.owedToParty': 'The centre pays you {amount}.',
  'statement.owedByParty': 'You pay the centre {amount}.',

  'voucherPdf.validIn': 'Valid in {acceptedAt}',
  'voucherPdf.validUntil': 'Valid until {day}',
  'voucherPdf.howTitle': 'How to use it',
  'voucherPdf.howText': 'It is accepted in {acceptedAt}. Show this page, printed or on screen, at the till: staff scan the QR code '
    + 'or type the code. You can pay with it in several purchases until the balance is used up.',
  'voucherPdf.safeTitle': 'Keep it safe',
  'voucherPdf.safeText': 'Whoever has the code can spend the voucher: treat it like cash. Staff will never ask you for the code by phone '
    + 'or e-mail.',
  'voucherPdf.verifyTitle': 'Verify it',
  'voucherPdf.verifyText': 'A genuine voucher ends in {last4} and its code passes the till\'s check. Any till in the centre '
    + 'shows its balance.',
  'voucherPdf.footer': 'Order {orderId} - issued {day}',

  'statementPdf.metaTitle': 'Clearing statement {period} - {party}',
  'statementPdf.metaSubject': 'Clearing {period}',
  'statementPdf.title': '{scheme}: clearing statement',
  'statementPdf.party': 'Billing party: {party}',
  'statementPdf.partyId': 'Party id: {id}',
  'statementPdf.period': 'Period: {period} ({from} to {to}, {timeZone})',
  'statementPdf.summary': 'Summary',
  'statementPdf.noTransactions': 'No transactions in this period.',
  'statementPdf.positions': 'Positions',
  'statementPdf.count': 'Count',
  'statementPdf.amountIn': 'Amount ({currency})',
  'statementPdf.sales': 'Vouchers sold and loaded at your tills (cash you hold for the scheme)',
  'statementPdf.redemptions': 'Vouchers redeemed at your stores',
  'statementPdf.refunds': 'Refunds of redemptions back to vouchers',
  'statementPdf.net': 'Net position (positive: owed to you)',
  'statementPdf.counterparties': 'Counterparties',
  'statementPdf.acceptedIntro': 'Redemptions at your stores, by who sold the voucher:',
  'statementPdf.soldBy': 'Sold by',
  'statementPdf.redeemed': 'Redeemed',
  'statementPdf.refunded': 'Refunded',
  'statementPdf.elsewhereIntro': 'Your vouchers redeemed at other parties\' stores:',
  'statementPdf.redeemedAt': 'Redeemed at',
  'statementPdf.csvNote': 'Every transaction behind these figures ({rows} rows) is in this statement\'s CSV. Vouchers expired in the '
    + 'period are breakage of the scheme and do not change your position.',
  'statementPdf.signatures': 'Signatures',
  'statementPdf.signCentre': 'For the centre ({scheme}): name, date, signature',
  'statementPdf.signParty': 'For {party}: name, date, signature',
};

export type MessageKey = keyof typeof en;
