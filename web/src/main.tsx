// One bundle, three apps: the Print@Home shop at `/`, the POS terminal at `/pos` and the back-office
// portal at `/portal`. The API serves index.html for all (SPA fallback); the path picks the app.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Layout } from './Layout.tsx';
import { PosPage } from './pos/PosPage.tsx';
import { ShopPage } from './shop/ShopPage.tsx';
import { PortalApp } from './portal/PortalApp.tsx';
import './styles.css';

const path = window.location.pathname;
const page = /^\/pos(\/|$)/.test(path) ? 'pos' : /^\/portal(\/|$)/.test(path) ? 'portal' : 'shop';
document.title = page === 'pos' ? 'POS terminal · Centre Gift Voucher' : page === 'portal' ? 'Back office · Centre Gift Voucher'
  : 'Buy a gift voucher · Centre Gift Voucher';

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <Layout page={page}>{page === 'pos' ? <PosPage /> : page === 'portal' ? <PortalApp /> : <ShopPage />}</Layout>
  </StrictMode>,
);
