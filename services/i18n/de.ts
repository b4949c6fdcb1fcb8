// German texts of the shopper's and billing parties' mails and PDFs (keys and placeholders as en.ts).

import type { MessageKey } from './en.ts';

export const de: Record<MessageKey, string> = {
  'voucherMail.subject': 'Ihr {scheme} ({amount})',
  'voucherMail.text': 'Vielen Dank für Ihren Einkauf.\n\nIhr Gutschein über {amount} ist als PDF angehängt. Drucken Sie ihn aus oder '
    + 'zeigen Sie ihn auf dem Handy an der Kasse eines beliebigen Geschäfts in {acceptedAt}.\nEr endet auf {last4} und gilt '
    + 'bis {validUntil}.\n\nBestellung {orderId}\n',
  'refundMail.subject': 'Ihre Gutscheinbestellung konnte nicht abgeschlossen werden - {amount} erstattet',
  'refundMail.text': 'Es tut uns leid: Wir konnten Ihren Gutschein nicht ausstellen. Ihre Zahlung von {amount} wurde auf Ihre Karte '
    + 'erstattet; je nach Bank erscheint sie innerhalb weniger Tage.\n\nBestellung {orderId}\n',
  'reminderMail.subject': 'Ihr Gutschein …{last4} läuft am {day} ab',
  'reminderMail.text': 'Ihr Geschenkgutschein mit der Endung {last4} hat noch ein Guthaben von {amount} und läuft am {day} ab '
    + '(in {days} Tagen oder weniger). Lösen Sie ihn bis dahin in einem Geschäft des Centers ein.\n\nKeine Erinnerungen mehr: {unsubscribeUrl}\n',
  'statementMail.subject': '{scheme}: Abrechnung {period} für {party}',
  'statementMail.text': 'Guten Tag {party},\n\nim Anhang finden Sie Ihre Abrechnung für {period}.\n\n{positions}\n\n'
    + 'Alle zugrunde liegenden Buchungen als CSV (Link 90 Tage gültig):\n{csvLink}\n\n'
    + 'Die Abrechnung wird endgültig, wenn die Finanzabteilung des Centers den Zeitraum abschließt.',
  'statement.owedToParty': 'Das Center zahlt Ihnen {amount}.',
  'statement.owedByParty': 'Sie zahlen dem Center {amount}.',

  'voucherPdf.validIn': 'Gültig in {acceptedAt}',
  'voucherPdf.validUntil': 'Gültig bis {day}',
  'voucherPdf.howTitle': 'So lösen Sie ihn ein',
  'voucherPdf.howText': 'Er wird in {acceptedAt} angenommen. Zeigen Sie diese Seite ausgedruckt oder auf dem Bildschirm an der Kasse: '
    + 'Das Personal scannt den QR-Code oder tippt den Code ein. Sie können damit in mehreren Einkäufen bezahlen, bis das Guthaben aufgebraucht ist.',
  'voucherPdf.safeTitle': 'Sicher aufbewahren',
  'voucherPdf.safeText': 'Wer den Code hat, kann den Gutschein einlösen: Behandeln Sie ihn wie Bargeld. Das Personal fragt Sie nie '
    + 'am Telefon oder per E-Mail nach dem Code.',
  'voucherPdf.verifyTitle': 'Echtheit prüfen',
  'voucherPdf.verifyText': 'Ein echter Gutschein endet auf {last4} und sein Code besteht die Prüfung der Kasse. Jede Kasse im Center '
    + 'zeigt sein Guthaben.',
  'voucherPdf.footer': 'Bestellung {orderId} - ausgestellt am {day}',

  'statementPdf.metaTitle': 'Abrechnung {period} - {party}',
  'statementPdf.metaSubject': 'Abrechnung {period}',
  'statementPdf.title': '{scheme}: Abrechnung',
  'statementPdf.party': 'Abrechnungspartei: {party}',
  'statementPdf.partyId': 'Partei-ID: {id}',
  'statementPdf.period': 'Zeitraum: {period} ({from} bis {to}, {timeZone})',
  'statementPdf.summary': 'Zusammenfassung',
  'statementPdf.noTransactions': 'Keine Buchungen in diesem Zeitraum.',
  'statementPdf.positions': 'Positionen',
  'statementPdf.count': 'Anzahl',
  'statementPdf.amountIn': 'Betrag ({currency})',
  'statementPdf.sales': 'An Ihren Kassen verkaufte und aufgeladene Gutscheine (Bargeld, das Sie für das Programm halten)',
  'statementPdf.redemptions': 'In Ihren Geschäften eingelöste Gutscheine',
  'statementPdf.refunds': 'Auf Gutscheine zurückerstattete Einlösungen',
  'statementPdf.net': 'Saldo (positiv: Ihnen geschuldet)',
  'statementPdf.counterparties': 'Gegenparteien',
  'statementPdf.acceptedIntro': 'Einlösungen in Ihren Geschäften, nach Verkäufer des Gutscheins:',
  'statementPdf.soldBy': 'Verkauft von',
  'statementPdf.redeemed': 'Eingelöst',
  'statementPdf.refunded': 'Erstattet',
  'statementPdf.elsewhereIntro': 'Ihre Gutscheine, eingelöst in Geschäften anderer Parteien:',
  'statementPdf.redeemedAt': 'Eingelöst bei',
  'statementPdf.csvNote': 'Jede Buchung hinter diesen Zahlen ({rows} Zeilen) steht in der CSV dieser Abrechnung. Im Zeitraum '
    + 'verfallene Gutscheine sind Verfall des Programms und ändern Ihren Saldo nicht.',
  'statementPdf.signatures': 'Unterschriften',
  'statementPdf.signCentre': 'Für das Center ({scheme}): Name, Datum, Unterschrift',
  'statementPdf.signParty': 'Für {party}: Name, Datum, Unterschrift',
};
