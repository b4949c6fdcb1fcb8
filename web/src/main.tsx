// One bundle, two pages: the Print@Home shop at `/` and the POS terminal at `/pos`. The API serves
// index.html for both (SPA fallback); the path picks the page.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Layout } from './Layout.tsx';
import { PosPage } from './pos/PosPage.tsx';
import { ShopPage } from './shop/ShopPage.tsx';
import './styles.css';

const isPos = /^\/pos(\/|$)/.test(window.location.pathname);
document.title = isPos ? 'POS terminal · Centre Gift Voucher' : 'Buy a gift voucher · Centre Gift Voucher';

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <Layout page={isPos ? 'pos' : 'shop'}>{isPos ? <PosPage /> : <ShopPage />}</Layout>
  </StrictMode>,
);
